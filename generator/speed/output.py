"""The render and write stages as the speed layer runs them: only what changed is rendered or written.

A page whose key (fingerprint.page_keys) is the one its file was made with, and whose file is the
very one recorded, is kept without rendering; the others are rendered by workers that write them
straight into the new tree, so that no process holds every page. Files of many bytes (a cold
build's search files and feeds) are placed by a child beside the render stage. The output manifest
(which key made each file, its size, mtime and inode) is kept for the next build.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from markupsafe import Markup

from ..core.errors import Problem
from ..model.pages import OutputFile, Page, output_path
from ..model.records import Entry
from ..render import Renderer, TemplateProblem
from ..write import MARK, OutputTree, WriteResult, existing_files, same_content
from .cache import FileRecord, record_of
from .parallel import MIN_ITEMS, Background, parallel_map
from .reuse import OnDisk, on_disk

MANY_BYTES = 16 << 20  # from this many bytes of files (a cold build's search files and feeds), a child places them


def rendered_now(pages: list[Page], keys: list[str | None], kept: OnDisk, renderer: Renderer) -> dict[int, OutputFile]:
    """The pages that output/ does not hold as keyed, rendered here if they are few (after an edit,
    while a child works out related entries), by index, each with its key; none if they are many
    (the render stage shares those among workers) or one fails (that stage reports it)."""
    stale = [i for i, key in enumerate(keys) if not (key is not None and kept(output_path(pages[i].url), key))]
    if len(stale) >= MIN_ITEMS:
        return {}
    made = {}
    for i in stale:
        try:
            made[i] = replace(renderer.render(pages[i]), key=keys[i] or "")
        except TemplateProblem:
            return {}
    return made


def render_problems(renderer: Renderer, pages: list[Page]) -> list[Problem]:
    """The template problems of the pages, rendered on every core (`kb check`: nothing is written)."""
    return [p for p in parallel_map(lambda i: _render_problem(renderer, pages[i]), range(len(pages))) if p]


def _render_problem(renderer: Renderer, page: Page) -> Problem | None:
    try:
        renderer.render(page)
    except TemplateProblem as exc:
        return exc.problem
    return None


def card_or_none(renderer: Renderer, entry: Entry) -> Markup | None:
    """The card, or None if its template fails (the error is reported by the page that shows it)."""
    try:
        return renderer.card_html(entry)
    except Exception:
        return None


class KeyedOutput:
    """Pages and files placed in an output tree, each file's record kept for the output manifest."""

    def __init__(self, output: Path, records: dict[str, FileRecord]):
        self.output = output
        self.previous = records  # the output manifest of the last build into `output`
        self.kept = on_disk(records, output)
        self.records: list[tuple[str, FileRecord]] = []  # of the pages placed, as they are known
        self.files: list[tuple[str, str]] = []  # (path, key) of the files placed, recorded once they are in output/
        self.kept_files: set[str] = set()  # files kept as recorded: their records stand
        self.tree: OutputTree | None = None

    def fresh(self, paths: list[str], keys: list[str | None]) -> list[bool]:
        """For each page (by its output path): output/ holds it as rendered with its key."""
        return [key is not None and self.kept(path, key) for path, key in zip(paths, keys, strict=True)]

    def unchanged(self, files: list[OutputFile], statics: dict[str, Path], wanted: int) -> bool:
        """True when output/ already holds exactly these files (the pages were checked by key), and kb's mark."""
        output, previous = self.output, self.previous
        if len(previous) != wanted or not (output / MARK).is_file():
            return False
        if not all(f.data is None or same_content(output / f.path, f.data) for f in files):
            return False
        if not all(same_content(output / rel, src) for rel, src in statics.items()):
            return False
        return len(existing_files(output)) == wanted

    def placing(self, files: list[OutputFile], beside: bool = True) -> Background[list[tuple[str, str, bool]]]:
        """The files being placed: by a child beside the render stage when they are many bytes, else here.
        The caller lets them go before the render workers are forked, so that their bytes are not in
        those processes."""
        tree, previous = self.tree, self.previous
        self.kept_files |= {f.path for f in files if f.data is None}

        def placed_files() -> list[tuple[str, str, bool]]:
            """(path, key, written) of each file, now placed: file system work only, so a child can do it."""
            for f in files:
                if f.data is None:
                    tree.keep(f.path, previous[f.path].ino)
            return [(f.path, f.key, f.data is not None and tree.put(f.path, f.data)[1]) for f in files]

        return Background(placed_files, here=not beside or sum(len(f.data or b"") for f in files) < MANY_BYTES)

    def count_files(self, placed: list[tuple[str, str, bool]]) -> None:
        for path, key, written in placed:
            self.tree.add(path, written)
            self.files.append((path, key))

    def place_pages(self, pages: list[Page], paths: list[str], keys: list[str | None], fresh: list[bool],
                    renderer: Renderer) -> tuple[list[Problem], bool]:
        """Render and place the pages that changed, on every core, and keep the others; their template
        problems, and whether any page's bytes are new."""
        tree = self.tree

        def render_and_put(index: int) -> tuple[Problem | None, bool, FileRecord | None]:
            try:
                data = renderer.render(pages[index]).data
            except TemplateProblem as exc:
                return exc.problem, False, None
            target, written = tree.put(paths[index], data)
            return None, written, record_of(keys[index] or "", target)

        stale = [i for i, ok in enumerate(fresh) if not ok]
        outcomes = parallel_map(render_and_put, stale)
        problems = [problem for problem, _, _ in outcomes if problem]
        if problems:
            return problems, False
        for i, ok in enumerate(fresh):
            if ok:  # the very file: same size, mtime and inode as recorded
                tree.keep(paths[i], self.previous[paths[i]].ino)
                tree.add(paths[i], False)
                self.records.append((paths[i], self.previous[paths[i]]))
        for i, (_, written, record) in zip(stale, outcomes, strict=True):
            tree.add(paths[i], written)
            self.records.append((paths[i], record))
        return [], any(written for _, written, _ in outcomes)

    def commit(self, statics: dict[str, Path], background_cleanup: bool) -> tuple[WriteResult, list[tuple[str, FileRecord]]]:
        """The tree, with the static files, swapped in (or updated in place); and the records of every file in it.
        Removed files are counted from the manifest, not from a walk of the tree."""
        for rel, src in statics.items():
            self.tree.copy(rel, src)
        result = self.tree.commit(background_cleanup=background_cleanup, previous=self.previous.keys() or None)
        records = self.records + [(rel, record_of("", self.output / rel)) for rel in statics]
        records += [(rel, self.previous[rel] if rel in self.kept_files else record_of(key, self.output / rel))
                    for rel, key in self.files]
        return result, records
