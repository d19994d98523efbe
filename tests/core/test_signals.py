"""Stop signals (rest_video.core.signals): SIGTERM, SIGHUP and Ctrl-C end a real `rest-video` process
cleanly, with no output or temporary file left, one line on stderr and exit status 128 + N."""

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from media import make_clip

from rest_video.core.signals import Interrupted, exit_status, stop_signals_raise

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


def _command() -> list[str]:
    """The installed console script (what users run), else the module."""
    script = Path(sys.executable).with_name("rest-video")
    found = str(script) if script.is_file() else shutil.which("rest-video")
    return [found] if found else [sys.executable, "-m", "rest_video"]


def _env() -> dict:
    root = str(Path(__file__).resolve().parents[2])  # this checkout's rest_video, whatever is installed
    return {**os.environ, "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")])}


def _wait_for(predicate, proc, timeout=120.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.005)
    return False


@pytest.fixture
def long_clip(tmp_path):
    """Long enough (several seconds here, about two on a fast machine; a 60-frame clip was once done
    before the signal landed) that a signal sent when the temporary output appears lands while
    frames are being written."""
    return make_clip(tmp_path / "in.mp4", w=320, h=240, n=240)


def _check_stopped(out_dir: Path, rc: int, err: str, signum: int) -> None:
    assert rc == 128 + signum, (rc, err)
    assert list(out_dir.iterdir()) == []                               # no output, no temporary file
    lines = err.strip().splitlines()
    assert lines and lines[-1].startswith("rest-video: interrupted") and "Traceback" not in err, err
    if signum != signal.SIGINT:
        assert signal.Signals(signum).name in lines[-1]


def test_sigterm_mid_write_leaves_no_file_and_exits_143(tmp_path, long_clip, style_image, random_weights):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    proc = subprocess.Popen([*_command(), str(long_clip), str(style_image), str(out_dir / "out.mp4"),
                             "--checkpoint", str(random_weights), "--no-cache", "-q"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env())
    writing = _wait_for(lambda: any(out_dir.glob(".out.*.part.mp4")), proc)
    assert writing, f"no temporary output appeared: {proc.communicate()[1]}"
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    _check_stopped(out_dir, proc.returncode, err, signal.SIGTERM)


@pytest.mark.parametrize("name", ["SIGHUP", "SIGINT"])
def test_other_stop_signals_mid_write_in_process(
    tmp_path, long_clip, style_image, random_weights, capsys, name
):
    """The same through rest_video.cli.main.main in this process (no second torch start-up)."""
    from rest_video.cli.main import main

    signum = getattr(signal, name)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    sent = threading.Event()

    def send_when_writing() -> None:
        end = time.monotonic() + 120
        while time.monotonic() < end and not any(out_dir.glob(".out.*.part.mp4")):
            time.sleep(0.002)
        os.kill(os.getpid(), signum)
        sent.set()

    late: list[int] = []
    previous = signal.signal(
        signum, lambda *a: late.append(1)
    )  # a signal after main() returned must not end pytest
    try:
        watcher = threading.Thread(target=send_when_writing, daemon=True)
        watcher.start()
        rc = main(
            [
                str(long_clip),
                str(style_image),
                str(out_dir / "out.mp4"),
                "--checkpoint",
                str(random_weights),
                "--no-cache",
                "-q",
            ]
        )
        watcher.join()
    finally:
        signal.signal(signum, previous)
    assert sent.is_set() and not late
    _check_stopped(out_dir, rc, capsys.readouterr().err, signum)


def test_ctrl_c_during_start_up_is_one_line(tmp_path, style_image):
    if not Path("/proc/self/maps").exists():
        pytest.skip("needs /proc to see when torch is being imported")
    proc = subprocess.Popen(
        [*_command(), str(tmp_path / "in.mp4"), str(style_image), str(tmp_path / "o.mp4")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
    )
    maps = Path(f"/proc/{proc.pid}/maps")

    def importing_torch() -> bool:
        try:
            return "libtorch" in maps.read_text()
        except OSError:
            return False

    assert _wait_for(importing_torch, proc), proc.communicate()
    proc.send_signal(signal.SIGINT)                                   # torch's import is under way
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert err.strip().splitlines() == ["rest-video: interrupted"], err


def test_only_the_first_signal_raises_and_handlers_come_back():
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(Interrupted) as info:
        with stop_signals_raise():
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(1)                   # the handler raises here
    assert info.value.signum == signal.SIGTERM and exit_status(info.value) == 143
    assert isinstance(info.value, KeyboardInterrupt)   # so every Ctrl-C clean-up runs for it too
    with stop_signals_raise():
        with pytest.raises(Interrupted):
            os.kill(os.getpid(), signal.SIGHUP)
            time.sleep(1)
        os.kill(os.getpid(), signal.SIGHUP)            # a second signal does not break the clean-up
        time.sleep(0.05)
    assert signal.getsignal(signal.SIGTERM) is before
