#!/usr/bin/env python3
"""Regenerate generator/data/t2s.json from OpenCC's character tables (development only).

    pip install opencc-python-reimplemented && python3 tools/make_t2s.py

Search folds traditional characters to simplified ones, one character to one character, so
a query in either script finds text in either. The data is OpenCC's (Apache-2.0):
TSCharacters (traditional → simplified, first candidate) plus the Taiwan and Hong Kong
variant forms of traditional characters, each mapped to the simplified form of its standard.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "generator" / "data" / "t2s.json"


def read_pairs(path: Path) -> list[tuple[str, str]]:
    """(source, first candidate) for every single-character line of an OpenCC table."""
    pairs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or "\t" not in line:
            continue
        source, targets = line.split("\t", 1)
        target = targets.split(" ")[0]
        if len(source) == 1 and len(target) == 1:
            pairs.append((source, target))
    return pairs


def main() -> int:
    import opencc  # noqa: PLC0415 — a development-only dependency

    dictionary = Path(opencc.__file__).parent / "dictionary"
    t2s = {s: t for s, t in read_pairs(dictionary / "TSCharacters.txt") if s != t}
    for table in ("TWVariants.txt", "HKVariants.txt"):
        for standard, variant in read_pairs(dictionary / table):
            # Only variants of traditional characters: 么 or 抬 are simplified already.
            if standard in t2s and variant not in t2s and variant != t2s[standard]:
                t2s[variant] = t2s[standard]
    # A target that is itself folded (rare chains) goes straight to its end.
    for source in t2s:
        seen = {source}
        while t2s[source] in t2s and t2s[source] not in seen:
            seen.add(t2s[source])
            t2s[source] = t2s[t2s[source]]
    t2s = {s: t for s, t in t2s.items() if s != t}
    pairs = "".join(s + t for s, t in sorted(t2s.items()))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({
        "about": "Traditional → simplified Chinese, one character to one, for search folding.",
        "source": "OpenCC dictionary/TSCharacters.txt, TWVariants.txt, HKVariants.txt "
                  "(via opencc-python-reimplemented 0.1.7)",
        "license": "Apache-2.0, Copyright BYVoid and the OpenCC contributors",
        "pairs": pairs,
    }, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"{len(t2s)} pairs → {OUT}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
