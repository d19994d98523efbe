"""rest_video.style.flat: a single-colour (or 1x1) style is refused in one line instead of flattening
every frame to one colour; low-contrast photos still pass."""

import cv2
import numpy as np
import pytest
from media import make_frame

from rest_video.cli.main import main
from rest_video.core.errors import StyleError
from rest_video.style import check_not_flat


def _write(path, rgb):
    cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    return path


@pytest.mark.parametrize("kind", ["1x1", "one-colour", "one-colour-jpeg", "noise-of-one-level"])
def test_a_flat_style_is_refused_in_one_line(tmp_path, capsys, random_weights, kind):
    rng = np.random.default_rng(0)
    if kind == "1x1":
        style = _write(tmp_path / "s.png", np.full((1, 1, 3), (200, 80, 30), np.uint8))
    elif kind == "one-colour":
        style = _write(tmp_path / "s.png", np.full((48, 64, 3), (200, 80, 30), np.uint8))
    elif kind == "one-colour-jpeg":
        style = _write(tmp_path / "s.jpg", np.full((48, 64, 3), (20, 90, 160), np.uint8))
    else:
        noisy = 128 + rng.integers(-1, 2, size=(48, 64, 3))
        style = _write(tmp_path / "s.png", noisy.astype(np.uint8))
    content = _write(tmp_path / "in.png", make_frame(32, 24, 1))
    out = tmp_path / "out.png"
    rc = main([str(content), str(style), str(out), "--checkpoint", str(random_weights), "-q"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and "single colour" in err[0] and str(style) in err[0], err
    assert not out.exists()


def test_low_contrast_photos_are_not_flat(rng):
    photo = make_frame(64, 48, 3)
    check_not_flat(photo)
    check_not_flat((photo * 0.1 + 180).astype(np.uint8))          # fog: a tenth of the contrast
    check_not_flat((photo * 0.1).astype(np.uint8))                # night
    gradient = np.linspace(100, 120, 64)[None, :, None].repeat(48, 0).repeat(3, 2).astype(np.uint8)
    check_not_flat(gradient)                                      # a sky: 20 levels across
    with pytest.raises(StyleError, match="1x1"):
        check_not_flat(np.zeros((1, 1, 3), np.uint8))
