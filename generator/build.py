"""The pipeline: sources → documents → site → derived pages and files → rendered files → written output.

Each stage is a call with plain values in and out (pipeline.py says what each does). The speed
layer (speed/plan.py) runs the same stages cached by content, on every core and beside one another;
`BuildOptions(speed=False)` or KB_SPEED=0 runs them plainly, in order, for the same bytes.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace

from .core.errors import Problem, Problems, SiteError
from .model.records import Site
from .output_folder import UnsafeOutput
from .pipeline import BuildCancelled, BuildOptions, Serving, site_config
from .speed.plan import stages_for
from .speed.unchanged import BuildRecord
from .write import WriteResult


@dataclass(frozen=True)
class BuildResult:
    site: Site | None  # None when the last build was still the answer (nothing was loaded)
    entries: int
    pages: int
    write: WriteResult | None
    warnings: tuple[Problem, ...]
    timings: dict[str, float] = field(default_factory=dict)
    preview: bool = False  # related entries taken from the last build (see Serving.preview)

    @classmethod
    def skipped(cls, last: BuildRecord, timings: dict[str, float]) -> BuildResult:
        """The last build, still the answer: what it did."""
        return cls(None, last.entries, last.pages, WriteResult(0, last.written, 0), last.warnings, timings)

    def summary(self) -> str:
        total = sum(self.timings.values())
        if self.site is None:
            return (f"nothing changed since the last build ({self.entries} entries, {self.pages} pages), "
                    f"checked in {total:.2f}s")
        line = f"built {self.entries} entries, {self.pages} pages in {total:.2f}s"
        if self.write:
            line += f" ({self.write.written} written, {self.write.unchanged} unchanged, {self.write.removed} removed)"
        if self.warnings:
            line += f", {len(self.warnings)} warning{'s' if len(self.warnings) != 1 else ''}"
        return line


def build(options: BuildOptions, write: bool = True, *, background_cleanup: bool = False,
          serving: Serving | None = None) -> BuildResult:
    """Build the site; raise SiteError (with every problem) and leave output/ alone on errors.

    `write=False` (`kb check`) renders every page for its problems and writes nothing;
    `background_cleanup` (`kb build`) keeps a large site's previous tree as the spare the next build
    updates, or deletes it in the background; `serving`: `kb serve`'s build (see Serving).
    """
    problems = Problems()
    with stages_for(options, write, serving, background_cleanup, os.environ) as stages:
        stages.guard_output()                                              # output_folder.py
        if (last := stages.last_build()) is not None:                      # speed/unchanged.py
            return BuildResult.skipped(last, stages.timings)
        config = site_config(options, problems)                            # config.py
        sources = stages.sources(problems)                                 # stages/sources.py
        documents = stages.documents(sources, config)                      # stages/parse.py
        site, files = stages.site(config, documents, problems)             # stages/assemble.py
        stages.check(site, documents, files, problems)                     # stages/check.py
        problems.raise_if_errors(options.strict)
        stages.stop_if_cancelled()
        derived = stages.derived(site, problems)                           # derive/
        problems.raise_if_errors(options.strict)                           # the checks' problems among them
        made = len(derived.pages) + len(derived.files)  # counted now: the write stage lets the files go
        rendered = stages.rendered(derived, problems)                      # render.py
        problems.raise_if_errors(options.strict)
        stages.stop_if_cancelled()
        written = stages.written(site, rendered, problems) if write else None   # write.py
    return BuildResult(site, len(site.entries), made, written, tuple(problems.warnings), stages.timings,
                       preview=stages.approximate)


def load_site(options: BuildOptions, problems: Problems, timings: dict[str, float] | None = None) -> Site:
    """Everything up to the model (`kb digest`, tests); raises SiteError when the content has errors.
    Nothing is read from or kept in the cache."""
    with stages_for(replace(options, cache=False), write=False, environ=os.environ) as stages:
        config = site_config(options, problems)
        documents = stages.documents(stages.sources(problems), config)
        site, files = stages.site(config, documents, problems)
        stages.check(site, documents, files, problems)
    problems.raise_if_errors(options.strict)
    if timings is not None:
        timings.update(stages.timings)
    return site


__all__ = ["BuildCancelled", "BuildOptions", "BuildResult", "Serving", "SiteError", "UnsafeOutput", "build", "load_site"]
