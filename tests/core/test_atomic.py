"""rest_video.core.atomic: outputs appear whole or not at all, with the permissions the user expects
(the umask for a new file, the replaced file's mode with -y), never mkstemp's 0600."""

import os
import stat
import sys

import pytest
from media import make_frame

from rest_video.cli.main import main
from rest_video.core.atomic import atomic_output, current_umask
from rest_video.io.image import write_image

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")


@pytest.fixture
def umask():
    """Set the process umask for one test (the value returned by os.umask is put back)."""
    saved = []

    def set_mask(mask: int) -> None:
        old = os.umask(mask)
        if not saved:
            saved.append(old)

    yield set_mask
    if saved:
        os.umask(saved[0])


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.parametrize("mask, expected", [(0o022, 0o644), (0o027, 0o640), (0o077, 0o600), (0o002, 0o664)])
def test_a_new_output_follows_the_umask(tmp_path, umask, mask, expected):
    umask(mask)
    assert current_umask() == mask
    with atomic_output(tmp_path / "out.txt") as tmp:
        assert _mode(tmp) == 0o600                     # private while half-written
        tmp.write_text("done")
    assert _mode(tmp_path / "out.txt") == expected
    assert os.listdir(tmp_path) == ["out.txt"]


@pytest.mark.parametrize("old_mode", [0o640, 0o644, 0o600])
def test_a_replaced_output_keeps_its_mode(tmp_path, umask, old_mode):
    umask(0o022)
    out = tmp_path / "out.txt"
    out.write_text("old")
    os.chmod(out, old_mode)
    with atomic_output(out) as tmp:
        tmp.write_text("new")
    assert out.read_text() == "new" and _mode(out) == old_mode


def test_a_failure_leaves_the_old_file_and_no_temporary(tmp_path):
    out = tmp_path / "out.txt"
    out.write_text("old")
    with pytest.raises(KeyboardInterrupt):
        with atomic_output(out) as tmp:
            tmp.write_text("half")
            raise KeyboardInterrupt
    assert os.listdir(tmp_path) == ["out.txt"] and out.read_text() == "old"


def test_the_command_writes_0644_under_umask_022_and_y_keeps_0640(
    tmp_path, umask, style_image, random_weights
):
    umask(0o022)
    write_image(tmp_path / "in.png", make_frame(32, 24, 1))
    out = tmp_path / "out.png"
    args = [str(tmp_path / "in.png"), str(style_image), str(out), "--checkpoint", str(random_weights), "-q"]
    assert main(args) == 0 and _mode(out) == 0o644
    os.chmod(out, 0o640)
    assert main([*args, "-y"]) == 0 and _mode(out) == 0o640
