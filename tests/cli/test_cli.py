"""`rest-video IN STYLE OUT`: user mistakes give one stderr line, a non-zero exit and no output."""

import subprocess
import sys

import av
import numpy as np
import pytest
from media import make_clip, read_frames

from rest_video.cli.main import main


def _audio_only(path):
    with av.open(str(path), "w") as c:
        a = c.add_stream("aac", rate=44100)
        f = av.AudioFrame.from_ndarray(np.zeros((1, 4096), np.int16), format="s16", layout="mono")
        f.sample_rate, f.pts = 44100, 0
        for p in a.encode(f):
            c.mux(p)
        for p in a.encode():
            c.mux(p)
    return path


def _run(args, capsys):
    rc = main([str(a) for a in args])
    return rc, capsys.readouterr().err.strip().splitlines()


@pytest.fixture
def clip(tmp_path):
    return make_clip(tmp_path / "in.mp4", n=4)


@pytest.mark.parametrize("case", ["missing", "not-video", "no-video-stream", "bad-style", "missing-style",
                                  "no-out-dir", "in-is-out", "bad-option", "bad-strength", "bad-ext",
                                  "out-is-dir", "bad-device", "bad-memory-budget"])
def test_bad_input_is_one_clear_line_and_no_output(tmp_path, capsys, clip, style_image, random_weights, case):
    out = tmp_path / "out.mp4"
    inp, style, extra = clip, style_image, ["--checkpoint", random_weights]
    if case == "missing":
        inp = tmp_path / "nope.mp4"
    elif case == "not-video":
        inp = tmp_path / "text.mp4"
        inp.write_text("this is not a video\n")
    elif case == "no-video-stream":
        inp = _audio_only(tmp_path / "sound.m4a")
    elif case == "bad-style":
        style = tmp_path / "style.jpg"
        style.write_text("not an image")
    elif case == "missing-style":
        style = tmp_path / "nostyle.jpg"
    elif case == "no-out-dir":
        out = tmp_path / "no" / "such" / "dir" / "out.mp4"
    elif case == "in-is-out":
        out = clip
    elif case == "bad-option":
        extra += ["--frobnicate"]
    elif case == "bad-strength":
        extra += ["--strength", "abc"]
    elif case == "bad-ext":
        out = tmp_path / "out.notaformat"
    elif case == "out-is-dir":
        out = tmp_path / "adir"
        out.mkdir()
    elif case == "bad-device":
        extra += ["--device", "tpu"]
    elif case == "bad-memory-budget":
        extra += ["--set", "runtime.max_memory_mb=0"]
    before = sorted(p.name for p in tmp_path.iterdir())
    rc, err = _run([inp, style, out, *extra], capsys)
    assert rc != 0
    assert len(err) == 1 and err[0].startswith("rest-video"), err
    assert "Traceback" not in err[0]
    after = sorted(p.name for p in tmp_path.iterdir())
    assert after == before  # nothing written, no temporary file left
    if case == "in-is-out":
        assert len(read_frames(clip)[0]) == 4  # the input is untouched


def test_existing_output_needs_y(tmp_path, capsys, clip, style_image, random_weights):
    out = tmp_path / "out.mp4"
    out.write_bytes(b"keep me")
    rc, err = _run([clip, style_image, out, "--checkpoint", random_weights, "-q"], capsys)
    assert rc == 2 and "-y" in err[0] and out.read_bytes() == b"keep me"
    rc, err = _run([clip, style_image, out, "--checkpoint", random_weights, "-q", "-y"], capsys)
    assert rc == 0 and len(read_frames(out)[0]) == 4


def test_a_picture_over_the_memory_budget_is_the_same_picture(tmp_path, capsys, style_image, random_weights):
    """Image mode with a 1 MB budget runs in bands and writes exactly the whole-frame picture."""
    import cv2

    rng = np.random.default_rng(5)
    img = cv2.GaussianBlur(rng.integers(0, 256, (67, 97, 3), dtype=np.uint8), (5, 5), 0)
    cv2.imwrite(str(tmp_path / "in.png"), img)
    common = [tmp_path / "in.png", style_image, "--checkpoint", random_weights, "-q"]
    assert _run([common[0], common[1], tmp_path / "whole.png", *common[2:]], capsys)[0] == 0
    rc, err = _run(
        [common[0], common[1], tmp_path / "bands.png", *common[2:], "--set", "runtime.max_memory_mb=1"],
        capsys,
    )
    assert rc == 0 and err == []
    assert (tmp_path / "bands.png").read_bytes() == (tmp_path / "whole.png").read_bytes()


def test_failure_mid_run_leaves_no_output(tmp_path, clip, style_image, random_weights, monkeypatch):
    from rest_video.io import video_writer as video

    calls = {"n": 0}
    real = video.VideoWriter.write

    def boom(self, rgb, pts):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(self, rgb, pts)

    monkeypatch.setattr(video.VideoWriter, "write", boom)
    rc = main(
        [str(clip), str(style_image), str(tmp_path / "out.mp4"), "--checkpoint", str(random_weights), "-q"]
    )
    assert rc == 130
    assert not (tmp_path / "out.mp4").exists()
    assert not list(tmp_path.glob(".out*"))


def test_console_script_runs(tmp_path, clip, style_image, random_weights):
    out = tmp_path / "o.mp4"
    r = subprocess.run([sys.executable, "-m", "rest_video", str(clip), str(style_image), str(out),
                        "--checkpoint", str(random_weights)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "wrote" in r.stderr and len(read_frames(out)[0]) == 4


@pytest.mark.parametrize("form, extra", [
    ("stylize", ["--strength", "nan"]),
    ("stylize", ["--pixel-smoothing", "inf"]),
    ("stylize", ["--smoothing=-inf"]),
    ("stylize", ["--set", "temporal.smoothing=nan"]),
    ("webcam", ["--fps", "nan"]),                     # ran, and dropped almost every frame
    ("webcam", ["--set", "live.fps=.nan"]),
    ("lut", ["--strength", "NaN"]),
])
def test_non_finite_numbers_are_refused_on_every_flag(
    tmp_path, capsys, clip, style_image, random_weights, form, extra
):
    if form == "stylize":
        args = [clip, style_image, tmp_path / "out.mp4"]
    elif form == "webcam":
        args = ["--webcam", "--camera", clip, "--no-preview", "--frames", "2", "--style", style_image]
    else:
        args = ["lut", style_image, "--content", clip, "-o", tmp_path / "look.cube"]
    before = sorted(p.name for p in tmp_path.iterdir())
    rc, err = _run([*args, "--checkpoint", random_weights, *extra], capsys)
    assert rc == 2 and len(err) == 1 and "finite" in err[0], err
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_a_first_run_that_probes_the_precision_still_fails_in_one_line(
    tmp_path, capsys, style_image, random_weights, monkeypatch
):
    """On a CPU with bf16 units the first run times fp32 against bf16 before it reads the input;
    what the probe found goes to the verbose log, so a bad input is still one line."""
    from rest_video.engine import precision

    probed = []
    monkeypatch.setattr(precision, "auto_candidates", lambda f=None: ["fp32", "bf16"])
    monkeypatch.setattr(precision, "load_cached", lambda *a, **k: None)
    monkeypatch.setattr(precision, "probe", lambda model, cands, **k: probed.append(cands) or {
        "fp32": precision.ProbeResult(10.0, float("inf"), 0), "bf16": precision.ProbeResult(12.0, 60.0, 1)})
    inp = tmp_path / "text.mp4"
    inp.write_text("this is not a video\n")
    rc, err = _run([inp, style_image, tmp_path / "out.mp4", "--checkpoint", random_weights], capsys)
    assert probed and rc != 0 and len(err) == 1 and "text.mp4" in err[0]


@pytest.mark.parametrize("command", [[], ["--webcam"], ["lut"], ["batch"]])
def test_help_names_every_shipped_pipeline_a_user_can_pick(command, capsys):
    from rest_video.resources import pipeline_names

    with pytest.raises(SystemExit) as e:
        main(command + ["--help"])
    assert e.value.code == 0
    text = " ".join(capsys.readouterr().out.split())      # argparse wraps the help text
    names = [n for n in pipeline_names() if n != "train"]
    assert "strong-look" in names and f"by name ({', '.join(names)})" in text
