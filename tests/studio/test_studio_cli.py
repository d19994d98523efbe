"""``rest-video studio``: the subcommand, its token rule, and one line without the extra."""

from __future__ import annotations

import sys

import pytest

pytest.importorskip("starlette", reason="the [studio] extra is not installed")

from rest_video.cli.main import main


@pytest.fixture
def served(monkeypatch):
    """uvicorn.run replaced: the command's app and address are recorded, nothing listens."""
    import uvicorn

    seen = {}

    def fake_run(app, host, port, **kw):
        seen.update(app=app, host=host, port=port)

    monkeypatch.setattr(uvicorn, "run", fake_run)
    return seen


def test_loopback_by_default_without_a_token(served, capsys, tmp_path):
    assert main(["studio", "--workdir", str(tmp_path)]) == 0
    assert (served["host"], served["port"]) == ("127.0.0.1", 8765)
    settings = served["app"].state.studio.settings
    assert settings.token is None and settings.loopback
    assert "open http://127.0.0.1:8765/" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []             # the run's folder is removed when it stops


def test_any_other_host_gets_a_token(served, capsys, tmp_path):
    assert main(["studio", "--host", "0.0.0.0", "--port", "9000", "--workdir", str(tmp_path)]) == 0
    token = served["app"].state.studio.settings.token
    assert token and len(token) >= 16 and not served["app"].state.studio.settings.loopback
    err = capsys.readouterr().err
    assert f"?token={token}" in err and "every request needs the token" in err
    assert main(["studio", "--host", "0.0.0.0", "--token", "mine", "--workdir", str(tmp_path)]) == 0
    assert served["app"].state.studio.settings.token == "mine"


def test_bad_flags_are_one_line(served, capsys):
    assert main(["studio", "--port", "70000"]) == 2
    assert capsys.readouterr().err.strip() == "rest-video: error: --port must be in 1..65535, got 70000"


def test_without_the_extra_one_line(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "uvicorn", None)     # import uvicorn fails as when it is not installed
    assert main(["studio"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["rest-video: error: the studio needs the [studio] extra: pip install 'rest-video[studio]'"]


def test_the_library_never_imports_the_studio():
    import subprocess

    code = ("import sys, rest_video, rest_video.cli.main, rest_video.pipeline.file, rest_video.batch.runner, "
            "rest_video.live.session, rest_video.stream; "
            "assert not any(m.startswith(('rest_video.studio', 'starlette', 'uvicorn'))"
            " for m in sys.modules)")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_no_library_module_imports_the_studio():
    """Statically, every module: only the studio and its command import rest_video.studio."""
    import re
    from pathlib import Path

    import rest_video

    root = Path(rest_video.__file__).parent
    allowed = {root / "cli" / "studio.py"}
    pattern = re.compile(r"^\s*(from\s+rest_video\.studio|import\s+rest_video\.studio)", re.M)
    offenders = [p.relative_to(root) for p in root.rglob("*.py")
                 if "studio" not in p.relative_to(root).parts[:1] and p not in allowed
                 and pattern.search(p.read_text())]
    assert offenders == []
