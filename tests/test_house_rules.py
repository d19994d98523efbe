"""The house rules, checked on the source, and each checker shown to fail on a small bad package.

The rules: module and class sizes and private imports (tools/house_rules.py), the layers and the
lab kept out of the package (import-linter, pyproject.toml), pyflakes/pycodestyle/isort/bugbear
(ruff, pyproject.toml). ``.ci/run`` runs the three checkers on the tree before the tests.
"""

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tools.house_rules import MAX_CLASS_LINES, MAX_MODULE_LINES, check_paths, check_source, main

ROOT = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------- tools/house_rules.py
def test_the_rule_checker_passes_a_small_good_module():
    good = "from a.b import helper\nfrom a.c import __version__\n\nclass A:\n    x = 1\n"
    assert check_source(good, "good.py") == []


@pytest.mark.parametrize(
    "source, fragment",
    [
        ("x = 1\n" * (MAX_MODULE_LINES + 1), f"{MAX_MODULE_LINES + 1} lines"),
        ("class Big:\n" + "    x = 1\n" * MAX_CLASS_LINES, f"class Big has {MAX_CLASS_LINES + 1} lines"),
        ("from a.b import _helper\n", "imports private name _helper from a.b"),
        ("from ..b import public, _helper as helper\n", "imports private name _helper from ..b"),
        ("def f():\n    from a.b import _late\n", "imports private name _late"),
    ],
)
def test_the_rule_checker_fails_on_each_rule(source, fragment):
    found = check_source(source, "bad.py")
    assert len(found) == 1 and fragment in found[0]


def test_the_rule_checker_command_fails_on_a_bad_package(tmp_path, capsys):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("def _helper():\n    return 1\n")
    assert main([str(pkg)]) == 0
    (pkg / "b.py").write_text("from pkg.a import _helper\n")
    assert main([str(pkg)]) == 1
    out = capsys.readouterr()
    assert "b.py:1: imports private name _helper from pkg.a" in out.out and "1 violation" in out.err



def test_the_rule_checker_finds_a_circle_of_imports_even_through_a_function(tmp_path):
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    for init in (pkg / "__init__.py", pkg / "sub" / "__init__.py"):
        init.write_text("")
    (pkg / "a.py").write_text("from pkg.sub import b\n")
    (pkg / "sub" / "b.py").write_text("X = 1\n")
    assert check_paths([pkg]) == []
    (pkg / "sub" / "b.py").write_text("def late():\n    from .. import a\n    return a\n")
    assert check_paths([pkg]) == ["import circle: pkg.a <-> pkg.sub.b"]


def test_the_package_the_lab_and_the_tests_keep_the_rules():
    assert check_paths([ROOT / "rest_video", ROOT / "tools", ROOT / "tests"]) == []


# --------------------------------------------------------------------------- import-linter, ruff
def _tool(name: str) -> str:
    exe = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if exe is None:
        pytest.skip(f"{name} is not installed (pip install -e '.[dev]')")
    return exe


def _layered_project(root: Path, bad: bool) -> None:
    """A package ``app`` with layers ``app.cli`` > ``app.core`` and a lab ``lab``; ``bad``: core
    imports cli and the package imports the lab."""
    for pkg in ("app", "app/core", "app/cli", "lab"):
        (root / pkg).mkdir()
        (root / pkg / "__init__.py").write_text("")
    (root / "app/cli/main.py").write_text("from app.core import base\n")
    (root / "app/core/base.py").write_text("from app.cli import main\n" if bad else "X = 1\n")
    (root / "lab/tool.py").write_text("from app.core import base\n")
    (root / "app/uses_lab.py").write_text("import lab.tool\n" if bad else "")
    (root / ".importlinter").write_text(textwrap.dedent("""\
        [importlinter]
        root_packages =
            app
            lab

        [importlinter:contract:layers]
        name = layers
        type = layers
        layers =
            app.cli
            app.core

        [importlinter:contract:lab]
        name = no lab in the package
        type = forbidden
        source_modules = app
        forbidden_modules = lab
        """))


@pytest.mark.parametrize("bad", [False, True])
def test_import_linter_fails_on_an_upward_import_and_on_the_lab(tmp_path, bad):
    _layered_project(tmp_path, bad)
    r = subprocess.run([_tool("lint-imports"), "--no-cache"], cwd=tmp_path, capture_output=True, text=True,
                       env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"})
    if not bad:
        assert r.returncode == 0, r.stdout + r.stderr
        return
    assert r.returncode != 0
    assert "app.core is not allowed to import app.cli" in r.stdout
    assert "app.uses_lab -> lab.tool" in r.stdout


@pytest.mark.parametrize(
    "source, code",
    [
        ("import os\n", "F401"),                                  # pyflakes
        ("x = 1\ny = [x for x in range(3)]\nz = x  " + "#" * 120 + "\n", "E501"),  # pycodestyle
        ("import sys\nimport os\n\nprint(os, sys)\n", "I001"),      # isort
        ("def f(x=[]):\n    return x\n", "B006"),                   # bugbear
    ],
)
def test_ruff_fails_on_each_rule_set_and_passes_clean_code(tmp_path, source, code):
    (tmp_path / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text())
    ruff = _tool("ruff")
    (tmp_path / "good.py").write_text("import os\n\nprint(os.sep)\n")
    ok = subprocess.run(
        [ruff, "check", "--no-cache", "good.py"], cwd=tmp_path, capture_output=True, text=True
    )
    assert ok.returncode == 0, ok.stdout
    (tmp_path / "bad.py").write_text(source)
    r = subprocess.run([ruff, "check", "--no-cache", "bad.py"], cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode == 1 and code in r.stdout, r.stdout


def test_the_package_keeps_its_layers():
    r = subprocess.run([_tool("lint-imports"), "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-3000:]


# --------------------------------------------------------------------------- doctests
@pytest.mark.parametrize("bad", [False, True])
def test_a_wrong_doctest_fails_the_doctest_run(tmp_path, bad):
    (tmp_path / "op.py").write_text(textwrap.dedent(f"""\
        def double(x):
            \"\"\"
            >>> double(2)
            {5 if bad else 4}
            \"\"\"
            return 2 * x
        """))
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "--doctest-modules", "-p", "no:cacheprovider",
                        "op.py"], cwd=tmp_path, capture_output=True, text=True)
    assert (r.returncode != 0) == bad, r.stdout
