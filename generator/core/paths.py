"""Where a real path lies: the one test of "inside the site" that every reader of the site's folders asks."""
from __future__ import annotations

import os
from pathlib import Path


def is_inside(real: str, folder: str) -> bool:
    """True if the real path `real` is `folder` (a real path too) or under it."""
    return real == folder or real.startswith(folder.rstrip(os.sep) + os.sep)


def is_within(real: str, roots: tuple[str, ...]) -> bool:
    """True if the real path `real` is inside any of `roots`."""
    return any(is_inside(real, root) for root in roots)


def site_roots(site_root: Path | str) -> tuple[str, str]:
    """The real paths that what kb reads must resolve into: the site, and its content/ (which may be a link)."""
    return os.path.realpath(site_root), os.path.realpath(os.path.join(site_root, "content"))
