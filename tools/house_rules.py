"""The house rules ruff and import-linter do not check, read from the source (AST, nothing imported).

    python tools/house_rules.py rest_video tools tests    # one line per violation; exit 1 if any

- a module holds at most 400 lines, a class at most 250;
- a ``_private`` name is not imported from another module (``from a.b import _helper``): what two
  modules share is public, under a name without the underscore.
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

MAX_MODULE_LINES = 400
MAX_CLASS_LINES = 250


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def check_source(text: str, where: str) -> list[str]:
    """The violations in one module's source ``text`` (``where`` names it in each line)."""
    out = []
    lines = len(text.splitlines())
    if lines > MAX_MODULE_LINES:
        out.append(f"{where}: {lines} lines (a module holds at most {MAX_MODULE_LINES})")
    try:
        tree = ast.parse(text, filename=where)
    except SyntaxError as e:
        return [*out, f"{where}:{e.lineno}: cannot parse ({e.msg})"]
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            n = (node.end_lineno or node.lineno) - node.lineno + 1
            if n > MAX_CLASS_LINES:
                out.append(f"{where}:{node.lineno}: class {node.name} has {n} lines "
                           f"(a class holds at most {MAX_CLASS_LINES})")
        elif isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if _is_private(alias.name):
                    module = "." * node.level + (node.module or "")
                    out.append(f"{where}:{node.lineno}: imports private name {alias.name} from {module}")
    return out


def check_paths(paths: list[Path]) -> list[str]:
    """The violations in every ``.py`` file under ``paths`` (files or folders)."""
    out = []
    for root in paths:
        files = [root] if root.is_file() else sorted(root.rglob("*.py"))
        for f in files:
            if any(part.startswith(".") for part in f.parts):  # .venv, .git
                continue
            out.extend(check_source(f.read_text(encoding="utf-8"), str(f)))
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python tools/house_rules.py", description=__doc__.split("\n\n")[0])
    p.add_argument("paths", nargs="+", type=Path, help="files or folders of Python source")
    args = p.parse_args(argv)
    missing = [str(x) for x in args.paths if not x.exists()]
    if missing:
        print(f"tools/house_rules.py: no such file or folder: {', '.join(missing)}", file=sys.stderr)
        return 2
    found = check_paths(args.paths)
    for line in found:
        print(line)
    print(f"house rules: {len(found)} violation(s)" if found else "house rules: ok", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main())
