"""The basic sample site's whole output, compared file by file with tests/golden/basic/.

Refresh deliberately after a reviewed change: `pytest tests/e2e/test_golden.py --update-golden`.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from generator.build import BuildOptions, build
from tests.conftest import NOW
from tests.helpers import tree

GOLDEN = Path(__file__).parent.parent / "golden" / "basic"
# The theme's static files are copied as they are; the search index is gzip, whose bytes depend
# on the zlib build (tests/unit/test_search.py checks its content instead).
SKIP = ("assets/", "search/meta.bin", "search/s/", "search/d/")


def compared(root: Path) -> dict[str, bytes]:
    return {path: data for path, data in tree(root).items() if not path.startswith(SKIP)}


def test_basic_site_matches_golden_tree(basic_site, request):
    build(BuildOptions(source=basic_site, now=NOW))
    got = compared(basic_site / "output")
    if request.config.getoption("--update-golden"):
        shutil.rmtree(GOLDEN, ignore_errors=True)
        for path, data in got.items():
            (GOLDEN / path).parent.mkdir(parents=True, exist_ok=True)
            (GOLDEN / path).write_bytes(data)
    expected = compared(GOLDEN)
    assert sorted(got) == sorted(expected), "files added or missing: refresh with --update-golden after review"
    changed = [path for path in got if got[path] != expected[path]]
    assert changed == [], f"changed: {changed[:10]} (refresh with --update-golden after review)"
