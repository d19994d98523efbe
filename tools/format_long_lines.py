"""Reformat only the statements ruff reports as longer than the line length (ruff's E501), one
statement at a time with ``ruff format --range``, so the rest of each file keeps its layout.

    python tools/format_long_lines.py rest_video/models rest_video/engine    # then: ruff check .

Long comments, docstrings and string literals are left as they are (the formatter does not split
them): ruff still reports those, to be wrapped by hand.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from collections import defaultdict


def long_lines(paths: list[str]) -> dict[str, list[int]]:
    """File -> the line numbers ruff reports as too long."""
    r = subprocess.run(["ruff", "check", "--select", "E501", "--output-format", "json", *paths],
                       capture_output=True, text=True)
    rows: dict[str, list[int]] = defaultdict(list)
    for d in json.loads(r.stdout or "[]"):
        rows[d["filename"]].append(d["location"]["row"])
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python tools/format_long_lines.py",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("paths", nargs="+", help="files or folders")
    args = p.parse_args(argv)
    if shutil.which("ruff") is None:
        print("tools/format_long_lines.py: ruff is not installed (pip install -e '.[dev]')", file=sys.stderr)
        return 2
    for f, rows in long_lines(args.paths).items():
        for row in sorted(rows, reverse=True):  # bottom up: a reformatted statement moves no later row
            subprocess.run(["ruff", "format", "-q", f"--range={row}:1-{row}:1000", f], check=False)
    left = sum(len(v) for v in long_lines(args.paths).values())
    print(f"{left} long line(s) left (comments, docstrings, strings)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
