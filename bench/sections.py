"""Marker-delimited sections of bench/RESULTS.md.

Other benchmark scripts own a section each, between `<!-- NAME:begin -->` and `<!-- NAME:end -->`. report.py
rewrites the rest of the file but keeps these sections; a script replaces its own section (or appends it).

    python3 bench/sections.py replace bench/RESULTS.md eventlog-ingest section.md   # section.md holds the body
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

_SECTION = re.compile(r"<!-- ([A-Za-z0-9_.-]+):begin -->\n?.*?<!-- \1:end -->\n?", re.S)


def begin(name: str) -> str:
    return f"<!-- {name}:begin -->"


def end(name: str) -> str:
    return f"<!-- {name}:end -->"


def extract(text: str) -> list[tuple[str, str]]:
    """Every marker-delimited section as (name, whole block including the markers), in order."""
    return [(m.group(1), m.group(0)) for m in _SECTION.finditer(text)]


def block(name: str, body: str) -> str:
    return f"{begin(name)}\n{body.rstrip()}\n{end(name)}\n"


def replace(text: str, name: str, body: str) -> str:
    """`text` with section `name` replaced by `body`, or with it appended when absent."""
    new = block(name, body)
    for found, old in extract(text):
        if found == name:
            return text.replace(old, new, 1)
    return text.rstrip("\n") + "\n\n" + new


def preserve(old_text: str, new_text: str) -> str:
    """`new_text` plus every section of `old_text` that `new_text` does not have, in their old order."""
    present = {name for name, _ in extract(new_text)}
    kept = [b for name, b in extract(old_text) if name not in present]
    if not kept:
        return new_text
    return new_text.rstrip("\n") + "\n\n" + "\n".join(b.rstrip("\n") + "\n" for b in kept)


def main(argv: list[str]) -> int:
    if len(argv) != 5 or argv[1] != "replace":
        print(__doc__, file=sys.stderr)
        return 2
    path, name, body_file = Path(argv[2]), argv[3], Path(argv[4])
    text = path.read_text() if path.exists() else ""
    path.write_text(replace(text, name, body_file.read_text()))
    print(f"wrote section {name} of {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
