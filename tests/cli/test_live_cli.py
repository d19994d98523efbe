"""`rest-video --webcam` and `rest-video lut` end to end through rest_video.cli.main.main (generated
media)."""

import sys
import types

import numpy as np
import pytest
from media import make_clip, make_frame

from rest_video.cli.main import main
from rest_video.live import preview
from rest_video.ops.lut import LutApplier, apply_cube_ffmpeg, read_cube


def _run(args, capsys):
    rc = main([str(a) for a in args])
    out = capsys.readouterr()
    return rc, out.out.strip().splitlines(), out.err.strip().splitlines()


@pytest.fixture
def clip(tmp_path):
    return make_clip(tmp_path / "cam.mp4", w=64, h=48, n=12, fps=10)


@pytest.mark.parametrize("path", ["lut", "full", "auto"])
def test_webcam_file_headless_prints_a_summary(clip, style_image, random_weights, capsys, path):
    rc, out, err = _run(
        [
            "--webcam",
            "--camera",
            clip,
            "--no-preview",
            "--frames",
            "6",
            "--fps",
            "40",
            "--loop",
            "--style",
            style_image,
            "--checkpoint",
            random_weights,
            "--path",
            path,
        ],
        capsys,
    )
    assert rc == 0, err
    assert len(out) == 1 and out[0].startswith("6 frames in ") and "fps, latency p50" in out[0]
    used = out[0].split(" path ")[1].split()[0]
    assert used == path if path != "auto" else used in ("lut", "full")


def test_webcam_two_styles_mirror_size_and_smoothing(clip, style_image, random_weights, capsys, tmp_path):
    rc, out, err = _run(
        [
            "--webcam",
            "--camera",
            clip,
            "--no-preview",
            "--frames",
            "3",
            "--fps",
            "40",
            "--loop",
            "--mirror",
            "--size",
            "32x24",
            "--smoothing",
            "0.9",
            "--style",
            style_image,
            style_image,
            "--checkpoint",
            random_weights,
        ],
        capsys,
    )
    assert rc == 0, err
    assert "32x24" in err[-1] and out[0].startswith("3 frames")


def _fake_pyvirtualcam(monkeypatch):
    def no_device(*a, **k):
        raise RuntimeError("'v4l2loopback' backend: No v4l2 loopback device found at /dev/video[0-99].")

    monkeypatch.setitem(sys.modules, "pyvirtualcam",
                        types.SimpleNamespace(Camera=no_device, PixelFormat=types.SimpleNamespace(RGB="RGB")))


def test_virtual_cam_without_backend_is_one_line_and_nonzero(clip, style_image, random_weights, capsys,
                                                             monkeypatch):
    _fake_pyvirtualcam(monkeypatch)
    rc, out, err = _run(["--webcam", "--camera", clip, "--no-preview", "--virtual-cam", "--frames", "3",
                         "--style", style_image, "--checkpoint", random_weights], capsys)
    assert rc == 2 and out == [] and len(err) == 1
    assert "v4l2loopback" in err[0] and "rest-video[live]" in err[0]


def test_preview_without_gui_suggests_no_preview(clip, style_image, random_weights, capsys, monkeypatch):
    monkeypatch.setattr(
        preview, "gui_problem", lambda: "there is no display (DISPLAY / WAYLAND_DISPLAY not set)"
    )
    rc, out, err = _run(
        ["--webcam", "--camera", clip, "--style", style_image, "--checkpoint", random_weights], capsys
    )
    assert rc == 2 and len(err) == 1 and "--no-preview" in err[0]


@pytest.mark.parametrize("args,msg", [
    (["--camera", "nope.mp4"], "neither a camera index"),
    (["--size", "64by48"], "WIDTHxHEIGHT"),
    (["--frames", "0"], "--frames"),
    (["--path", "fast"], "invalid choice"),
])
def test_webcam_user_errors(clip, style_image, random_weights, capsys, args, msg, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    base = [
        "--webcam",
        "--camera",
        clip,
        "--no-preview",
        "--style",
        style_image,
        "--checkpoint",
        random_weights,
    ]
    rc, out, err = _run(base + args, capsys)
    assert rc == 2 and len(err) == 1 and msg in err[0]


def test_webcam_missing_style(clip, random_weights, capsys, tmp_path):
    rc, _, err = _run(["--webcam", "--camera", clip, "--no-preview", "--style", tmp_path / "x.jpg"], capsys)
    assert rc == 2 and "style image not found" in err[0]


@pytest.fixture
def content(tmp_path):
    import cv2

    img = np.concatenate([make_frame(64, 48, i) for i in range(3)], axis=0)
    path = tmp_path / "content.png"
    cv2.imwrite(str(path), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
    return path, img


def test_lut_export_loads_in_ffmpeg_lut3d(tmp_path, content, style_image, random_weights, capsys):
    path, img = content
    cube = tmp_path / "look.cube"
    rc, _, err = _run(["lut", style_image, "--content", path, "-o", cube, "--size", "17",
                       "--checkpoint", random_weights], capsys)
    assert rc == 0, err
    assert "PSNR" in err[-1]
    table, title = read_cube(cube)
    assert table.shape == (17, 17, 17, 3) and title == style_image.stem
    ours = LutApplier(table)(img)
    theirs = apply_cube_ffmpeg(img, cube)                 # FFmpeg's lut3d through PyAV's filter graph
    mse = np.mean((ours.astype(float) - theirs) ** 2)
    assert 10 * np.log10(255 ** 2 / max(mse, 1e-12)) > 45


def test_lut_export_from_video_refuses_to_overwrite(tmp_path, clip, style_image, random_weights, capsys):
    cube = tmp_path / "look.cube"
    cube.write_text("keep me")
    args = [
        "lut",
        style_image,
        "--content",
        clip,
        "-o",
        cube,
        "--frames",
        "3",
        "--checkpoint",
        random_weights,
    ]
    rc, _, err = _run(args, capsys)
    assert rc == 2 and "-y" in err[0] and cube.read_text() == "keep me"
    rc, _, err = _run(args + ["-y"], capsys)
    assert rc == 0 and "3 frames" in err[-1] and cube.read_text().startswith("TITLE")
    assert not list(tmp_path.glob(".look*"))


def test_webcam_without_style_uses_the_sample_styles(clip, style_image, random_weights, capsys, monkeypatch):
    from rest_video.cli import live

    monkeypatch.setattr(live, "default_styles", lambda: [style_image, style_image])
    rc, out, err = _run(
        [
            "--webcam",
            "--camera",
            clip,
            "--no-preview",
            "--frames",
            "2",
            "--fps",
            "40",
            "--loop",
            "--checkpoint",
            random_weights,
            "--path",
            "lut",
        ],
        capsys,
    )
    assert rc == 0 and "keys 1-2" in err[0] and out[0].startswith("2 frames")
    monkeypatch.setattr(live, "default_styles", lambda: [])
    rc, out, err = _run(
        ["--webcam", "--camera", clip, "--no-preview", "--checkpoint", random_weights], capsys
    )
    assert rc == 2 and "--style" in err[0]


def test_webcam_frame_rate_comes_from_the_config(clip, style_image, random_weights, capsys, tmp_path):
    common = ["--webcam", "--camera", clip, "--no-preview", "--frames", "2", "--loop", "--style", style_image,
              "--checkpoint", random_weights, "--path", "lut"]
    rc, out, err = _run(common, capsys)
    assert rc == 0 and "@ 10 fps" in err[-1]                     # live.fps null: the file's own rate
    rc, out, err = _run(common + ["--set", "live.fps=40"], capsys)
    assert rc == 0 and "@ 40 fps" in err[-1]                     # the config, as --fps would
    (tmp_path / "p.yaml").write_text("live:\n  fps: 25\n")
    rc, out, err = _run(common + ["--pipeline", tmp_path / "p.yaml"], capsys)
    assert rc == 0 and "@ 25 fps" in err[-1]
