"""Pages → OutputFiles through Jinja: autoescaped, strict, overridable per site.

A site's `templates/` folder comes first in the search path, so any theme
template can be replaced by a file of the same name. A template that resolves outside
its folder's site (or, for the theme's, outside the theme) is not loaded: a symlink to
/etc/passwd is no template (the build warns about it, see site_folder.files_inside).
"""
from __future__ import annotations

import json
import os
import posixpath
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from .config import SECTION_IDS
from .core.errors import Problem, SiteError, SourceLocation
from .core.i18n import format_date, format_month, format_week, format_week_range
from .core.paths import is_inside
from .model import urls as url_scheme
from .model.pages import OutputFile, Page, output_path
from .model.records import Site

THEME = Path(__file__).parent / "theme"
CARD_TEMPLATE = "partials/entry_card.html"  # `card(entry)` renders it with nothing but `entry` and the globals


class TemplateProblem(Exception):
    def __init__(self, problem: Problem):
        self.problem = problem
        super().__init__(problem)  # as its argument, so that it survives the way back from a worker


class TemplateBytecode(jinja2.FileSystemBytecodeCache):
    """Compiled templates kept between builds (compiling them all is a visible part of a small build);
    a damaged file is compiled again, a folder that cannot be written is only not used."""

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except Exception:  # jinja checks the magic and the source's checksum, not the rest of the file
            bucket.reset()

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError:
            pass


class ContainedLoader(jinja2.FileSystemLoader):
    """Templates from `folder`, none whose real path is outside `bound`: such a template is
    skipped as if it were not there (the next loader, the theme's, is asked instead)."""

    def __init__(self, folder: Path, bound: Path):
        super().__init__(str(folder))
        self.bound = os.path.realpath(bound)

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Callable[[], bool]]:
        path = posixpath.join(self.searchpath[0], *jinja2.loaders.split_template_path(template))
        if not is_inside(os.path.realpath(path), self.bound):
            raise jinja2.TemplateNotFound(template)
        return super().get_source(environment, template)


def template_environment(site_root: Path | None, bytecode: Path | None = None) -> jinja2.Environment:
    """`bytecode`: a folder for compiled templates, which must be kb's code version's own
    (jinja keys them by the template's source only, not by the options set here)."""
    loaders = []
    if site_root and (site_root / "templates").is_dir():
        loaders.append(ContainedLoader(site_root / "templates", site_root))
    loaders.append(ContainedLoader(THEME / "templates", THEME))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,  # a build makes a new environment: no need to stat templates on every include
        bytecode_cache=TemplateBytecode(str(bytecode)) if bytecode is not None else None,
    )
    env.filters["tojson_safe"] = json_for_script
    return env


def json_for_script(value: Any) -> Markup:
    """JSON safe inside <script>: no "</script>", "<!--" or U+2028 can break out."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    for raw, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                         ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(raw, escaped)
    return Markup(text)


@dataclass
class Renderer:
    site: Site
    site_root: Path | None = None
    bytecode: Path | None = None  # see `template_environment`

    def __post_init__(self) -> None:
        self.env = template_environment(self.site_root, self.bytecode)
        self.cards: dict[int, tuple[object, Markup]] = {}
        self.env.globals.update(self.template_globals())
        self.env.filters.update(date_filters(self.site.config.language))

    def template_globals(self) -> dict[str, Any]:
        """What every template may use besides its page's context."""
        config = self.site.config
        base = config.base_path

        urls: dict[str, str] = {}

        def url(path: str) -> str:
            """A site path as a link; remembered, since every page links the same few hundred paths."""
            known = urls.get(path)
            if known is None:
                known = urls[path] = url_scheme.link(base, path)
            return known

        def abs_url(path: str) -> str:
            return url_scheme.absolute(config, path)

        def card(entry) -> Markup:
            """An entry's card, rendered once per entry rather than once per list that shows it."""
            known = self.cards.get(id(entry))
            if known is None or known[0] is not entry:
                self.cards[id(entry)] = known = (entry, self.card_html(entry))  # holding the entry keeps its id unique
            return known[1]

        fragments: dict[tuple, Markup] = {}

        def fragment(*key, caller) -> Markup:
            """`{% call fragment(k, ...) %}…{% endcall %}`: the body rendered once per key in a
            build (Hugo's partialCached). The key must name everything the body reads besides
            the globals: the site's header and footer are the same on thousands of pages."""
            known = fragments.get(key)
            if known is None:
                known = fragments[key] = Markup(caller())
            return known

        return dict(fragment=fragment, site=self.site, config=config, t=config.translator(), lang=config.language,
                    url=url, abs_url=abs_url, name=self.site.member_name, members=self.site.members,
                    sections=SECTION_IDS, urls=url_scheme.for_templates(), card=card)

    def card_html(self, entry) -> Markup:
        return Markup(self.env.get_template(CARD_TEMPLATE).render(entry=entry))

    def keep_cards(self, entries: list, cards: list[Markup | None]) -> None:
        """Cards rendered elsewhere (by workers, before the processes that render pages are
        forked): each of those would otherwise render nearly every card again for its lists."""
        self.cards.update((id(entry), (entry, html)) for entry, html in zip(entries, cards, strict=True)
                          if html is not None)

    def render(self, page: Page) -> OutputFile:
        try:
            template = self.env.get_template(page.template)
            text = template.render(page=page, page_url=page.url, **page.context,
                                   **{name: make() for name, make in page.derived.items()})
        except jinja2.TemplateSyntaxError as exc:
            raise TemplateProblem(Problem(SourceLocation(_template_path(exc.filename, exc.name), exc.lineno or 1),
                                          f"template error: {exc.message}")) from None
        except jinja2.TemplateNotFound as exc:
            raise TemplateProblem(Problem(SourceLocation("templates/" + str(exc.name), 1),
                                          f'template "{exc.name}" not found (needed for {page.url})')) from None
        except SiteError:  # not the template's (a body the cache no longer has)
            raise
        except Exception as exc:  # an error while running template code: find its line
            raise TemplateProblem(_runtime_problem(exc, page)) from None
        return OutputFile(output_path(page.url), text.encode("utf-8"))


def date_filters(language: str) -> dict[str, Callable[..., str]]:
    """Dates, months and weeks as the site's language writes them."""
    return {
        "date": lambda moment: format_date(moment, language),
        "isodate": lambda moment: moment.isoformat(),
        "month": lambda ym: format_month(ym[0], ym[1], language),
        "month_only": lambda ym: format_month(ym[0], ym[1], language, "month_only"),
        "ymd": lambda moment: moment.strftime("%Y-%m-%d"),
        "week": lambda week: format_week(week, language),
        "week_range": lambda week: format_week_range(week, language),
    }


def _template_path(filename: str | None, name: str | None) -> str:
    if filename:
        path = Path(filename)
        for root in (Path.cwd(),):
            try:
                return path.resolve().relative_to(root.resolve()).as_posix()
            except ValueError:
                pass
        if THEME in path.parents:
            return "generator/theme/" + path.relative_to(THEME).as_posix()
        return path.as_posix()
    return f"templates/{name}"


def _runtime_problem(exc: Exception, page: Page) -> Problem:
    frames = [f for f in traceback.extract_tb(sys.exc_info()[2]) if f.filename.endswith((".html", ".xml", ".txt", ".j2"))]
    if frames:
        frame = frames[-1]
        where = SourceLocation(_template_path(frame.filename, None), frame.lineno or 1)
    else:
        where = SourceLocation(f"templates/{page.template}", 1)
    return Problem(where, f"template error while rendering {page.url}: {type(exc).__name__}: {exc}")
