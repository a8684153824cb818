"""The model of the output: pages the derive stage asks for, and the files they render to."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Page:
    url: str  # "/qa/x/" (written as qa/x/index.html) or "/sitemap.xml"
    template: str
    context: Mapping[str, Any] = field(default_factory=dict)
    # More context, made only when the page is rendered (by a worker, and only if it is rendered):
    # each value a pure function of `context`, the config and the members, which the page's key covers.
    derived: Mapping[str, Callable[[], Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class OutputFile:
    path: str  # relative to the output folder, forward slashes
    data: bytes | None  # None: output/ holds it as the last build wrote it, with this key (see build.on_disk)
    key: str = ""  # what the bytes are a function of, if known: recorded in the output manifest


def output_path(url: str) -> str:
    """"/qa/x/" → "qa/x/index.html"; "/feed.xml" → "feed.xml"."""
    path = url.lstrip("/")
    return path + "index.html" if path == "" or path.endswith("/") else path
