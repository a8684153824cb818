"""Site + Documents → Problems: the checks that need the whole site at once.

Broken links and images, likely typos in member ids, tags spelt two ways.
`kb check` and `kb build` run the same checks; a broken link is an error for
`kb check` and a warning for `kb build`, so a curator can still publish.
"""
from __future__ import annotations

import posixpath
import re
import unicodedata
from collections import defaultdict
from collections.abc import Container, Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from ..config import SECTION_IDS
from ..core import errors
from ..core.errors import Problem, SourceLocation
from ..core.text import slugify
from ..model import urls
from ..model.records import Site
from .assemble import tag_key
from .parse import Document

MANY_CHOICES = 500  # above this, only choices sharing the first two characters are compared


def did_you_mean(word: str, choices: list[str]) -> str:
    """errors.did_you_mean, kept fast on sites with thousands of entries."""
    if len(choices) > MANY_CHOICES:
        choices = [c for c in choices if c[:2] == word[:2]][:MANY_CHOICES]
    return errors.did_you_mean(word, choices)


_PAGE_IDS = ("main", "answers-h", "toc-h", "related-h")  # ids the entry template adds
GENERATED_SUFFIXES = (".xml", ".json", ".txt", ".html")  # feeds and indexes other stages may write
_MEMBERS_HINT = "members are the ids in content/members.yaml; a free name such as a guest's is fine"


@dataclass(frozen=True)
class _Target:
    """What a link can point at: one entry's source, URL, anchors and whether it is published."""

    source: str
    url: str
    ids: frozenset[str]
    ok: bool  # False when the entry is not built because of its own errors (reported there)
    pending: str  # why a good entry is not published yet: "a draft", "scheduled for …", or ""


@dataclass(frozen=True)
class SiteFiles:
    """The files links and images may point at, read once by the caller."""

    static: frozenset[str]  # output paths of static files: "assets/kb.css"
    content: frozenset[str]  # other files under content/: "content/lessons/map.png"


def page_url_of(doc: Document) -> str:
    """The URL a document is published at (before duplicate slugs are settled)."""
    if doc.section == "digest":
        return urls.digest(doc.stem)
    return urls.entry(doc.section, doc.front.slug or slugify(doc.stem))


def check_site(site: Site, documents: Sequence[Document], files: SiteFiles, page_urls: Container[str],
               links_are_errors: bool = False) -> list[Problem]:
    """Every cross-site problem. `page_urls`: the URL of every page the site has, asked only about links
    that lead to neither an entry nor a file (a caller may make it when it is first asked)."""
    severity = "error" if links_are_errors else "warning"
    return [*link_problems(site, documents, files, page_urls, severity), *avatar_problems(site, files, severity),
            *people_problems(site, documents), *tag_problems(site, documents)]


# --- Links and images -------------------------------------------------------------------


def _ids_of(doc: Document) -> frozenset[str]:
    ids = set(doc.ids)
    for number in range(1, len(doc.answers) + 1):
        ids.add(f"answer-{number}")
    return frozenset(ids | set(_PAGE_IDS))


def link_targets(site: Site, documents: Sequence[Document]) -> dict[str, _Target]:
    """Source path → what a link to that entry finds: its URL, its anchors, whether it is published."""
    published = {e.source for e in site.entries}
    targets: dict[str, _Target] = {}
    for doc in documents:
        if doc.section in SECTION_IDS:
            pending = ""
            if doc.source not in published and doc.front.draft:
                pending = "a draft"
            elif doc.source not in published and doc.front.date and doc.front.date > site.now:
                pending = f"scheduled for {doc.front.date:%Y-%m-%d %H:%M}"
            ok = doc.ok and (doc.source in published or bool(pending))
            targets[doc.source] = _Target(doc.source, page_url_of(doc), _ids_of(doc), ok, pending)
    return targets


def link_problems(site: Site, documents: Sequence[Document], files: SiteFiles,
                  page_urls: Container[str], severity: str) -> list[Problem]:
    targets = link_targets(site, documents)
    by_url = {t.url: t for t in targets.values()}
    base = site.config.base_path
    problems: list[Problem] = []
    for doc in documents:
        own = targets.get(doc.source)
        here = own.url if own else page_url_of(doc)
        for target, line in doc.links:
            loc = SourceLocation(doc.source, line)
            if target.startswith("content/") and ".md" in target:
                problem = _md_link_problem(target, loc, {s: t for s, t in targets.items() if s != doc.source}
                                           if target.split("#")[0] not in targets else targets, severity)
            else:
                problem = _url_link_problem(target, here, base, loc, site, by_url, files.static, page_urls, severity)
            if problem:
                problems.append(problem)
        ids = own.ids if own else doc.ids
        for anchor, line in doc.anchors:
            fragment = unquote(anchor[1:])
            if fragment not in ids:
                problems.append(Problem(SourceLocation(doc.source, line),
                                        f'broken link: this page has no heading "#{fragment}"{_anchor_hint(fragment, ids)}', severity))
        for src, line in doc.images:
            problem = _image_problem(src, here, base, doc, SourceLocation(doc.source, line), files, severity)
            if problem:
                problems.append(problem)
    return problems


def _anchor_hint(fragment: str, ids: frozenset[str]) -> str:
    return did_you_mean(fragment, sorted(ids)) or ': a heading\'s anchor is its text, lower-cased, spaces as "-"'


def _md_link_problem(target: str, loc: SourceLocation, targets: dict[str, _Target], severity: str) -> Problem | None:
    source, _, fragment = target.partition("#")
    entry = targets.get(source)
    if entry is None:
        folder = posixpath.dirname(source) + "/"
        hint = did_you_mean(source, sorted(s for s, t in targets.items() if t.ok and s.startswith(folder)))
        return Problem(loc, f'broken link: "{source}" is not an entry{hint}: check the file name and the "../" steps', severity)
    if not entry.ok:
        return None  # its own errors are reported where they are
    if entry.pending:
        return Problem(loc, f"link to {source}, which is {entry.pending}: the link is broken until it is published", "warning")
    if fragment and fragment not in entry.ids:
        return Problem(loc, f'broken link: {source} has no heading "#{fragment}"{_anchor_hint(fragment, entry.ids)}', severity)
    return None


# "../slug/", "../../qa/slug/", "slug/": a relative link with nothing to decode (most links between entries)
PLAIN_RELATIVE = re.compile(r"((?:\.\./)*)(\w[\w\-]*(?:/[\w\-]+)*/?)")


def site_path(href: str, here: str, base: str) -> tuple[str, str] | None:
    """(site path, fragment) of a relative or root-relative link, or None for other sites."""
    plain = PLAIN_RELATIVE.fullmatch(href)
    if plain:  # what the general way below gives, without parsing the URL, which most links between entries need not
        folders = here.rstrip("/").split("/")[1:]
        path = "/" + "/".join([*folders[:max(0, len(folders) - len(plain.group(1)) // 3)], plain.group(2)])
        if base != "/" and path.startswith(base):
            path = "/" + path[len(base):]
        return path, ""
    return site_path_of_any(href, here, base)


def site_path_of_any(href: str, here: str, base: str) -> tuple[str, str] | None:
    parts = urlsplit(href)
    if parts.scheme or parts.netloc:
        return None
    path = unquote(parts.path)
    if path:
        joined = posixpath.normpath(posixpath.join(posixpath.dirname(here.rstrip("/") + "/x"), path))
        path = joined + ("/" if path.endswith("/") and not joined.endswith("/") else "")
        if base != "/" and path.startswith(base):
            path = "/" + path[len(base):]
    else:
        path = here
    return path, unquote(parts.fragment)


def _outside_base(href: str, base: str) -> bool:
    """A root-relative link on a site published under a sub-path ("/kb/") misses the site."""
    if base == "/":  # the usual case: nothing can miss it (and no URL to parse)
        return False
    parts = urlsplit(href)
    return not parts.scheme and not parts.netloc and parts.path.startswith("/") and not (parts.path + "/").startswith(base)


def _url_link_problem(href: str, here: str, base: str, loc: SourceLocation, site: Site, by_url: dict[str, _Target],
                      static_files: frozenset[str], page_urls: Container[str], severity: str) -> Problem | None:
    if href.startswith(("https://", "http://", "mailto:")):  # another site, the usual case: nothing to check here
        return None
    if _outside_base(href, base):
        return Problem(loc, f'broken link: "{href}" leaves the site, which is published under {base}: write '
                            f'"{base}{href.lstrip("/")}" or a relative link', severity)
    resolved = site_path(href, here, base)
    if resolved is None:
        return None
    path, fragment = resolved
    parts = path.strip("/").split("/")
    if not path.endswith("/") and "." in parts[-1]:
        if path.lstrip("/") in static_files or path.endswith(GENERATED_SUFFIXES) or path in page_urls:
            return None
        return Problem(loc, f'broken link: "{href}" points at {path}, which is neither a page nor a file in static/', severity)
    if not path.endswith("/"):
        path += "/"
    target = by_url.get(path)
    if target is not None:
        if not target.ok:
            return None
        if target.pending:
            return Problem(loc, f"link to {path} ({target.source}), which is {target.pending}: "
                                "the link is broken until it is published", "warning")
        if fragment and fragment not in target.ids:
            return Problem(loc, f'broken link: {path} ({target.source}) has no heading "#{fragment}"'
                                f'{_anchor_hint(fragment, target.ids)}', severity)
        return None
    kind = parts[0] if len(parts) == 2 else ""
    if kind in SECTION_IDS or (kind == "members" and parts[1] not in site.members) or \
            (kind == "tags" and parts[1] not in site.tags):
        if path in page_urls:
            return None
        names = [u.split("/")[2] for u, t in by_url.items() if t.ok and u.startswith(f"/{kind}/")] \
            if kind in SECTION_IDS else list(site.members) if kind == "members" else list(site.tags)
        close = did_you_mean(parts[1], sorted(names))
        hint = f' (did you mean "/{kind}/{close.split(chr(34))[1]}/"?)' if close else ""
        what = {"members": "member", "tags": "tag"}.get(kind, "entry")
        advice = "" if hint else {"entry": ": check the slug, or link to the entry's .md file",
                                  "member": ": members are listed in content/members.yaml",
                                  "tag": ": check the tag page's address on /tags/"}[what]
        return Problem(loc, f"broken link: there is no {what} at {path}{hint}{advice}", severity)
    return None


def _image_problem(src: str, here: str, base: str, doc: Document, loc: SourceLocation,
                   files: SiteFiles, severity: str) -> Problem | None:
    if not src:
        return Problem(loc, "image without a source: write it as ![description](/images/file.png)", severity)
    if _outside_base(src, base):
        return Problem(loc, f'image "{src}" is outside the site, which is published under {base}: write '
                            f'"{base}{src.lstrip("/")}" or a relative path', severity)
    resolved = site_path(src, here, base)
    if resolved is None or src.startswith("data:"):
        return None
    path = resolved[0].lstrip("/")
    if path in files.static:
        return None
    beside = posixpath.normpath(posixpath.join(posixpath.dirname(doc.source), unquote(urlsplit(src).path)))
    hint = (f"; {beside} exists but only static/ is published: move it to static/{path}"
            if beside in files.content else f": put the file at static/{path}")
    return Problem(loc, f'image not found: "{src}" would be /{path}{hint}', severity)


# --- People ------------------------------------------------------------------------------


def avatar_problems(site: Site, files: SiteFiles, severity: str) -> list[Problem]:
    """Avatars given as site paths ("/images/lin.png") must be files in static/."""
    problems = []
    for member in site.members.values():
        avatar = member.avatar
        if not avatar or urlsplit(avatar).scheme or avatar.startswith("//"):
            continue
        path = unquote(urlsplit(avatar).path).lstrip("/")
        if path not in files.static:
            problems.append(Problem(member.location or SourceLocation("content/members.yaml", 1),
                                    f'avatar of "{member.id}" not found: put the file at static/{path}', severity))
    return problems


def people_problems(site: Site, documents: Sequence[Document]) -> list[Problem]:
    """Credited people who are not members but look like a mistyped member id or a name."""
    ids = sorted(site.members)
    by_name = {unicodedata.normalize("NFKC", m.name).casefold(): m.id for m in site.members.values()}
    problems = []
    for doc in documents:
        if doc.section not in SECTION_IDS:
            continue
        credited = [(who, doc.line("authors", i), "author") for i, who in enumerate(doc.front.authors)]
        if doc.front.asker:
            credited.append((doc.front.asker, doc.line("asker"), "asker"))
        credited += [(a.author, a.line, "answerer") for a in doc.answers if a.author]
        for who, line, role in credited:
            if who in site.members:
                continue
            loc = SourceLocation(doc.source, line)
            member = by_name.get(unicodedata.normalize("NFKC", who).casefold())
            if member:
                problems.append(Problem(loc, f'{role} "{who}" is the name of member "{member}": write the id '
                                             f'"{member}" so the entry links to their profile', "warning"))
                continue
            hint = did_you_mean(who, ids)
            if hint:
                problems.append(Problem(loc, f'{role} "{who}" is not in content/members.yaml{hint}; {_MEMBERS_HINT}', "warning"))
    return problems


# --- Tags --------------------------------------------------------------------------------


def _loose_key(name: str) -> str:
    """Tags that differ only in case, width, spaces, "-" or "_" share this key."""
    return re.sub(r"[\s\-_]+", "", unicodedata.normalize("NFKC", name).casefold())


def tag_problems(site: Site, documents: Sequence[Document]) -> list[Problem]:
    """Tags that differ only in spacing, "-" or "_" are two tags: suggest merging them.

    Case and width differences need no warning: those are one tag already.
    """
    aliases = {tag_key(k): v for k, v in site.config.tag_aliases.items()}
    uses: dict[str, dict[str, list[SourceLocation]]] = defaultdict(lambda: defaultdict(list))
    keys: dict[str, tuple[str, str, str]] = {}  # raw tag → (name, loose key, key): a few hundred tags, used thousands of times
    for doc in sorted(documents, key=lambda d: d.source):
        if doc.section not in SECTION_IDS:
            continue
        for index, raw in enumerate(doc.front.tags):
            if raw not in keys:
                name = " ".join(unicodedata.normalize("NFC", raw).split())
                name = aliases.get(tag_key(name), name)
                keys[raw] = (name, _loose_key(name), tag_key(name))
            name, loose, key = keys[raw]
            line = doc.line("tags", index)
            uses[loose][key].append((SourceLocation(doc.source, line), name))
    problems = []
    for variants in uses.values():
        if len(variants) < 2:
            continue
        ranked = sorted(variants, key=lambda k: (-len(variants[k]), variants[k][0]))
        main_loc, main = variants[ranked[0]][0]
        for key in ranked[1:]:
            loc, other = variants[key][0]
            problems.append(Problem(loc, f'tag "{other}" differs only in spacing from "{main}" ({main_loc}), so they are '
                                         f'two tags: write it one way, or merge them in site_config.yaml with '
                                         f'tag_aliases: {{"{other}": "{main}"}}', "warning"))
    return problems


# --- Output paths ------------------------------------------------------------------------


def page_origins(pages: Iterable) -> dict[str, list[str]]:
    """Output path → what produced each page there ("content/qa/x.md:1", "the page /qa/open/ …"), in order."""
    from ..model.pages import output_path

    origins: dict[str, list[str]] = defaultdict(list)
    for page in pages:
        entry = page.context.get("entry") if page.template == "entry.html" else None
        member = page.context.get("member") if page.template == "member.html" else None
        if entry is not None and getattr(entry, "location", None):
            origin = str(entry.location)
        elif member is not None and getattr(member, "location", None):
            origin = str(member.location)
        else:
            origin = f"the page {page.url} ({page.template})"
        origins[output_path(page.url)].append(origin)
    return origins
