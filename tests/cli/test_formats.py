"""Outputs people use: GIF, AVIF, AVI, image sequences both ways; encoder options checked before the
model loads, in one line that never names a temporary file; --version."""

from fractions import Fraction

import av
import numpy as np
import pytest
from media import make_clip, read_frames

from rest_video.cli.main import main

FAST = ["--set", "temporal.smoothing=0", "--set", "temporal.pixel_smoothing=0",
        "--set", "temporal.chroma_sigma=0", "--strength", "0", "-q"]


def _run(args, capsys):
    rc = main([str(a) for a in args])
    return rc, [line for line in capsys.readouterr().err.splitlines() if line.strip()]


@pytest.fixture
def clip(tmp_path):
    return make_clip(tmp_path / "in.mp4", n=5, time_base=Fraction(1, 12800), pts=[i * 1280 for i in range(5)])


def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("rest-video ")


@pytest.mark.parametrize("opt", [["--preset", "superfast2"], ["--codec", "h264_nvenc"], ["--codec", "nope"]])
def test_encoder_options_fail_before_the_model_loads(tmp_path, capsys, clip, style_image, opt, monkeypatch):
    import rest_video.engine.stylizer as st

    monkeypatch.setattr(st.Stylizer, "__init__", lambda *a, **k: pytest.fail("the model loaded"))
    rc, err = _run([clip, style_image, tmp_path / "out.mp4", *opt], capsys)
    assert rc == 2 and len(err) == 1 and ".part" not in err[0], err
    assert not list(tmp_path.glob("*out*"))


def test_gif_keeps_frames_and_rate(tmp_path, capsys, clip, style_image, random_weights):
    out = tmp_path / "out.gif"
    rc, err = _run([clip, style_image, out, "--checkpoint", random_weights, *FAST], capsys)
    assert rc == 0 and err == []
    frames_in, _, _ = read_frames(clip)
    with av.open(str(out)) as c:
        s = c.streams.video[0]
        got = [(f.pts * s.time_base, f.to_ndarray(format="rgb24")) for f in c.decode(s)]
    assert [t for t, _ in got] == [Fraction(i, 10) for i in range(5)]
    # 256 colours, dithered, for frames of thousands of colours: measured 8.4-10.8 levels mean
    assert all(np.abs(a.astype(int) - b).mean() < 12 for (_, a), b in zip(got, frames_in, strict=False))


def test_avi_is_a_constant_rate_stream_with_a_rotation_note(tmp_path, capsys, style_image, random_weights):
    src = make_clip(tmp_path / "in.mp4", n=5, rotation=90, audio=True, time_base=Fraction(1, 12800),
                    pts=[i * 1280 for i in range(5)])
    out = tmp_path / "out.avi"
    rc, err = _run([src, style_image, out, "--checkpoint", random_weights, *FAST], capsys)
    assert rc == 0
    assert len(err) == 2 and "rotation" in err[0] + err[1] and "audio" in err[0] + err[1], err
    with av.open(str(out)) as c:
        s = c.streams.video[0]
        assert s.codec_context.name == "mpeg4" and s.average_rate == 10 and s.frames == 5
        assert [f.pts for f in c.decode(s)] == [0, 1, 2, 3, 4]
        assert c.streams.audio[0].codec_context.name == "pcm_s16le"
    frames_in, _, _ = read_frames(src)
    frames_out, _, _ = read_frames(out)
    # MPEG-4 part 2 at q 2 on these 64x48 synthetic frames: measured 2.5-4.5 levels mean
    assert all(np.abs(a.astype(int) - b).mean() < 6 for a, b in zip(frames_in, frames_out, strict=False))


def test_avif_still(tmp_path, capsys, clip, style_image, random_weights):
    out = tmp_path / "out.avif"
    rc, err = _run([clip, style_image, out, "--checkpoint", random_weights, *FAST], capsys)
    assert rc == 0 and out.stat().st_size > 0
    first, _, _ = read_frames(clip)
    back, _, _ = read_frames(out)
    assert back[0].shape == first[0].shape and np.abs(back[0].astype(int) - first[0]).mean() < 6


def test_image_sequences_both_ways(tmp_path, capsys, clip, style_image, random_weights):
    seq = tmp_path / "seq" / "out_%04d.png"
    seq.parent.mkdir()
    rc, err = _run([clip, style_image, seq, "--checkpoint", random_weights, *FAST], capsys)
    assert rc == 0
    files = sorted(seq.parent.iterdir())
    assert [f.name for f in files] == [f"out_{i:04d}.png" for i in range(1, 6)]
    frames_in, _, _ = read_frames(clip)
    back = tmp_path / "back.mkv"
    for src in (seq, seq.parent):
        rc, err = _run([src, style_image, back, "--checkpoint", random_weights, "--fps", "12", "-y",
                        "--codec", "ffv1", "--pix-fmt", "bgr0", *FAST], capsys)
        assert rc == 0, err
        with av.open(str(back)) as c:
            assert c.streams.video[0].average_rate == 12
        frames_back, _, _ = read_frames(back)
        assert len(frames_back) == 5
        assert all(np.array_equal(a, b) for a, b in zip(frames_in, frames_back, strict=False))


def test_rotation_into_an_image_preview_and_live(tmp_path, capsys, style_image, random_weights):
    from rest_video.live.camera import FileCamera

    src = make_clip(tmp_path / "phone.mp4", w=64, h=48, n=3, rotation=90)
    out = tmp_path / "preview.png"
    rc, err = _run([src, style_image, out, "--checkpoint", random_weights, *FAST], capsys)
    assert rc == 0 and len(err) == 1 and "upright" in err[0], err
    first, _, _ = read_frames(src)
    from rest_video.io.image import read_image

    shown = np.rot90(first[0])                        # 90 degrees counter-clockwise, as players show it
    assert np.array_equal(read_image(out), shown)     # strength 0, lossless PNG: the shown picture itself
    cam = FileCamera(src, sleep=lambda s: None)
    try:
        assert cam.size == (48, 64)
        rgb, _ = cam.read()
        assert rgb.shape == (64, 48, 3) and np.array_equal(rgb, shown)
    finally:
        cam.close()
