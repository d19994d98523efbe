"""3D LUTs: identity, trilinear apply (reference vs fast), fitting, .cube round trip, FFmpeg's lut3d."""

import numpy as np
import pytest

from rest_video.core.errors import MediaError, ShapeError
from rest_video.ops.lut import (
    LutApplier,
    apply_cube_ffmpeg,
    apply_lut,
    identity_lut,
    read_cube,
    write_cube,
)
from rest_video.ops.lut_fit import LutFit, fit_lut


def colour_transform(rgb: np.ndarray) -> np.ndarray:
    """A smooth, channel-mixing colour grade (what a photo look roughly is)."""
    x = rgb.astype(np.float32) / 255
    r, g, b = x[..., 0], x[..., 1], x[..., 2]
    y = np.stack([0.85 * r**0.8 + 0.1 * g + 0.03, 0.7 * g + 0.2 * r + 0.05, 0.9 * np.sqrt(b) + 0.05 * r], -1)
    return np.clip(np.rint(np.clip(y, 0, 1) * 255), 0, 255).astype(np.uint8)


def psnr(a, b) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else 10 * np.log10(255 ** 2 / mse)


@pytest.fixture
def image(rng):
    """Every colour region of the cube, with smooth gradients (a 'frame' that covers the gamut)."""
    cube = rng.integers(0, 256, (96, 128, 3), dtype=np.uint8)
    y, x = np.mgrid[0:96, 0:128]
    grad = np.stack([x * 2, y * 2, (x + y)], -1).clip(0, 255).astype(np.uint8)
    return np.concatenate([cube, grad], axis=0)


def test_identity_lut_is_identity(image):
    for n in (2, 17, 33):
        table = identity_lut(n)
        assert np.array_equal(apply_lut(image, table), image)
        assert np.array_equal(LutApplier(table)(image), image)


def test_fast_apply_matches_reference_trilinear(rng, image):
    table = rng.random((9, 9, 9, 3), dtype=np.float32)
    ref = apply_lut(image, table)
    fast = LutApplier(table)(image)
    assert np.abs(ref.astype(int) - fast).max() <= 1
    # float reference at lattice points returns the table exactly
    pts = np.array([[0, 0, 0], [1, 0.5, 0.25], [0.125, 1, 0.75]], np.float32)
    idx = np.rint(pts * 8).astype(int)
    np.testing.assert_allclose(apply_lut(pts, table), table[idx[:, 2], idx[:, 1], idx[:, 0]], atol=1e-6)


def test_fit_reproduces_a_known_colour_transform(image, rng):
    target = colour_transform(image)
    table = fit_lut(image, target, 33)
    assert psnr(LutApplier(table)(image), target) > 40
    fresh = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)      # colours the fit never saw
    assert psnr(LutApplier(table)(fresh), colour_transform(fresh)) > 38
    polished = fit_lut(image, target, 33, iterations=15)
    assert psnr(LutApplier(polished)(image), target) >= psnr(LutApplier(table)(image), target) - 0.1


def test_fit_fills_unseen_colours_smoothly():
    # only dark greys seen, brightened by 40 levels: bright colours get a similar offset, not garbage
    grey = np.repeat(np.arange(0, 100, dtype=np.uint8)[:, None], 3, axis=1)
    table = fit_lut(grey, np.clip(grey.astype(int) + 40, 0, 255).astype(np.uint8), 17)
    out = apply_lut(np.array([[200, 30, 120]], np.uint8), table)
    assert np.abs(out.astype(int) - [240, 70, 160]).max() <= 3


def test_fit_identity_pairs_give_identity(image):
    table = fit_lut(image, image, 17)
    assert np.abs(table - identity_lut(17)).max() < 2e-3


def test_cube_round_trip(tmp_path, rng):
    table = rng.random((5, 5, 5, 3), dtype=np.float32)
    path = tmp_path / "look.cube"
    write_cube(path, table, title="my look")
    text = path.read_text().splitlines()
    assert text[:4] == [
        'TITLE "my look"',
        "LUT_3D_SIZE 5",
        "DOMAIN_MIN 0.0 0.0 0.0",
        "DOMAIN_MAX 1.0 1.0 1.0",
    ]
    # red changes fastest: the second data line is lattice (r=1, g=0, b=0)
    assert [float(v) for v in text[5].split()] == pytest.approx(table[0, 0, 1].tolist(), abs=1e-6)
    back, title = read_cube(path)
    assert title == "my look" and np.abs(back - table).max() < 1e-6
    assert not list(tmp_path.glob(".*part*"))


def test_bad_cube_files_are_media_errors(tmp_path):
    p = tmp_path / "bad.cube"
    p.write_text("LUT_3D_SIZE 2\n0 0 0\n")
    with pytest.raises(MediaError, match="expected 8"):
        read_cube(p)
    p.write_text("TITLE x\n1 2 3\n")
    with pytest.raises(MediaError, match="LUT_3D_SIZE"):
        read_cube(p)
    with pytest.raises(ShapeError):
        write_cube(tmp_path / "x.cube", np.zeros((3, 3, 2, 3)))


def test_ffmpeg_lut3d_loads_the_cube_and_matches(tmp_path, image):
    target = colour_transform(image)
    table = fit_lut(image, target, 33)
    path = tmp_path / "dir with space" / "look.cube"
    path.parent.mkdir()
    write_cube(path, table)
    ours = LutApplier(table)(image)
    ff = apply_cube_ffmpeg(image, path)                         # trilinear, like ours
    assert psnr(ff, ours) > 45
    tetra = apply_cube_ffmpeg(image, path, interp="tetrahedral")  # FFmpeg's default
    assert psnr(tetra, target) > 35


def test_one_fit_of_the_inputs_serves_several_outputs_as_fit_lut_does(image):
    fit = LutFit(image, 17)
    for target in (colour_transform(image), image, 255 - image):
        assert np.array_equal(fit.table(target), fit_lut(image, target, 17))
    assert np.array_equal(fit.table(image, iterations=3), fit_lut(image, image, 17, iterations=3))
    with pytest.raises(ShapeError, match="matching"):
        fit.table(image[:4])
