"""The house rules ruff and import-linter do not check, read from the source (AST, nothing imported).

    python tools/house_rules.py rest_video tools tests    # one line per violation; exit 1 if any

- a module holds at most 400 lines, a class at most 250;
- a ``_private`` name is not imported from another module (``from a.b import _helper``): what two
  modules share is public, under a name without the underscore;
- no two modules import each other, directly or round a circle (imports inside functions count).
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


def _python_files(paths: list[Path]) -> list[Path]:
    files = []
    for root in paths:
        found = [root] if root.is_file() else sorted(root.rglob("*.py"))
        files += [f for f in found if not any(part.startswith(".") for part in f.parts)]  # .venv, .git
    return files


def _module_name(f: Path) -> str:
    """``a/b/c.py`` -> ``a.b.c`` (``__init__.py``: the package), counting up the package folders."""
    parts = [] if f.stem == "__init__" else [f.stem]
    d = f.parent
    while (d / "__init__.py").is_file():
        parts.insert(0, d.name)
        d = d.parent
    return ".".join(parts)


def _imported(node: ast.AST, module: str, is_package: bool) -> list[str]:
    """The module names an import statement names (``from a import b``: ``a.b`` and ``a``)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    if not isinstance(node, ast.ImportFrom):
        return []
    base = node.module or ""
    if node.level:
        pkg = module.split(".") if is_package else module.split(".")[:-1]
        pkg = pkg[: len(pkg) - (node.level - 1)]
        base = ".".join(pkg + ([node.module] if node.module else []))
    return [f"{base}.{a.name}" for a in node.names] + [base]


def import_cycles(files: list[Path]) -> list[list[str]]:
    """Circles of imports among ``files`` (each a sorted list of modules)."""
    graph: dict[str, set[str]] = {}
    trees = {}
    for f in files:
        name = _module_name(f)
        graph[name] = set()
        trees[name] = (ast.parse(f.read_text(encoding="utf-8")), f.stem == "__init__")
    for name, (tree, is_package) in trees.items():
        for node in ast.walk(tree):
            for target in _imported(node, name, is_package):
                while target and target not in graph:
                    target = target.rpartition(".")[0]
                if target and target != name:
                    graph[name].add(target)
    return [sorted(c) for c in _strongly_connected(graph) if len(c) > 1]


def _strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components, without recursion."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            v, children = work[-1]
            w = next(children, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                elif w in on_stack:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                out.append(comp)
    return out


def check_paths(paths: list[Path]) -> list[str]:
    """The violations in every ``.py`` file under ``paths`` (files or folders)."""
    files = _python_files(paths)
    out = []
    for f in files:
        out.extend(check_source(f.read_text(encoding="utf-8"), str(f)))
    for circle in import_cycles(files):
        out.append(f"import circle: {' <-> '.join(circle)}")
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
