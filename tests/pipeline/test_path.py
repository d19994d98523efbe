"""runtime.path in file mode: auto's choice, the LUT path end to end, what it refuses, and refits
that never pop (scene cuts switch at once, other refits crossfade)."""

from dataclasses import replace

import numpy as np
import pytest
from media import make_clip, read_frames
from stand_ins import MeanStylizer

from rest_video.cli.main import main
from rest_video.core.config import load_pipeline
from rest_video.core.errors import ConfigError
from rest_video.pipeline import path_choice
from rest_video.stream import StreamStylizer


@pytest.mark.parametrize("full_ms, enc_ms, frames, expected", [
    (500.0, 20.0, 1000, "lut"),     # the network far slower than the encoder on a long clip
    (500.0, 20.0, 50, "full"),      # ... but the whole clip within a minute: the network's own output
    (10.0, 20.0, 1000, "full"),     # the network keeps up with the encoder (a GPU)
    (500.0, 20.0, 0, "lut"),        # frame count unknown: as a long clip
])
def test_auto_chooses_by_network_and_encoder_speed(monkeypatch, full_ms, enc_ms, frames, expected):
    monkeypatch.setattr(path_choice, "measure_full_ms", lambda *a, **k: (full_ms, False))
    monkeypatch.setattr(path_choice, "encoder_ms", lambda *a, **k: enc_ms)
    cfg = load_pipeline(None)
    choice = path_choice.choose_file_path(cfg, None, None, (1920, 1080), "libx264", "yuv420p", frames=frames)
    assert choice.path == expected and choice.reason
    for asked in ("full", "lut"):
        assert (
            path_choice.choose_file_path(
                replace(cfg, runtime=replace(cfg.runtime, path=asked)),
                None,
                None,
                (64, 48),
                "libx264",
                "yuv420p",
            ).path
            == asked
        )
    assert (
        path_choice.choose_file_path(cfg, None, None, (64, 48), "libx264", "yuv420p", masked=True).path
        == "full"
    )


def test_the_encoder_probe_times_real_encoding():
    ms = path_choice.encoder_ms("libx264", (320, 240), load_pipeline(None).output, "yuv420p")
    assert 0 < ms < 5000


def test_path_key_live_path_alias_and_fast_preview():
    assert load_pipeline(None).runtime.path == "auto"
    assert load_pipeline(None, {"live.path": "lut"}).runtime.path == "lut"          # the old name
    with pytest.raises(ConfigError, match="live.path .* runtime.path"):
        load_pipeline(None, {"live.path": "lut", "runtime.path": "full"})
    fast = load_pipeline("fast-preview")
    assert fast.runtime.path == "lut" and fast.output.preset == "veryfast"


def _run(args, capsys):
    rc = main([str(a) for a in args])
    return rc, capsys.readouterr().err.strip().splitlines()


def test_lut_path_end_to_end_and_what_it_refuses(tmp_path, capsys, style_image, random_weights, monkeypatch):
    import cv2

    clip = make_clip(tmp_path / "in.mp4", n=8, audio=True)
    base = [clip, style_image, "--checkpoint", random_weights, "-q"]
    rc, err = _run([*base[:2], tmp_path / "lut.mp4", *base[2:], "--path", "lut"], capsys)
    assert rc == 0 and err == []
    frames, _, audio = read_frames(tmp_path / "lut.mp4")
    decoded, _, _ = read_frames(clip)
    assert len(frames) == 8 and audio and not np.array_equal(frames[0], decoded[0])
    rc, err = _run(
        [
            *base[:2],
            tmp_path / "zero.mp4",
            *base[2:],
            "--path",
            "lut",
            "--strength",
            "0",
            "--crf",
            "0",
            "--pix-fmt",
            "yuv444p",
        ],
        capsys,
    )
    assert rc == 0
    assert (
        max(
            np.abs(a.astype(int) - b).max()
            for a, b in zip(read_frames(tmp_path / "zero.mp4")[0], decoded, strict=False)
        )
        <= 2
    )
    mask = tmp_path / "m.png"
    cv2.imwrite(str(mask), np.zeros((48, 64, 3), np.uint8))
    import rest_video.engine.stylizer as stylizer_module

    monkeypatch.setattr(
        stylizer_module.Stylizer, "__init__", lambda *a, **k: (_ for _ in ()).throw(AssertionError)
    )
    for extra, fragment in [(["--content-mask", mask], "masks need the full network"),
                            (["--method", "wct"], "wct needs the full network")]:
        rc, err = _run([*base[:2], tmp_path / "x.mp4", *base[2:], "--path", "lut", *extra], capsys)
        assert rc == 2 and len(err) == 1 and fragment in err[0]   # before the model loads
        assert not (tmp_path / "x.mp4").exists()


def _ramp(n: int = 30) -> list[np.ndarray]:
    """A slow fade up: the same picture, brighter each frame."""
    rng = np.random.default_rng(0)
    base = rng.integers(40, 200, (48, 64, 3)).astype(np.float32)
    return [np.clip(base * (0.6 + 0.015 * i), 0, 255).astype(np.uint8) for i in range(n)]


def _stream(fade: int, refit_every: int = 10, drift: float = 1.0) -> StreamStylizer:
    st = MeanStylizer()
    cfg = replace(
        st.cfg,
        live=replace(st.cfg.live, refit_every=refit_every, fit_side=32, lut_size=9, drift=drift, fade=fade),
    )
    return StreamStylizer(st, 1.0, cfg, path="lut", background=False, stabilize=False)


def test_a_refit_blends_in_and_never_pops():
    frames = _ramp()
    steps = {}
    for fade in (0, 8):
        stream = _stream(fade)
        outs = [stream(f).astype(np.float32) for f in frames]
        assert stream.lut.refits == 3                               # frames 0, 10, 20
        steps[fade] = [float(np.abs(b - a).mean()) for a, b in zip(outs, outs[1:], strict=False)]
    inp = [float(np.abs(b.astype(np.float32) - a).mean()) for a, b in zip(frames, frames[1:], strict=False)]
    assert max(steps[0]) > 3 * max(inp)                             # without the fade a refit jumps
    assert max(steps[8]) < 0.4 * max(steps[0])                      # with it the jump is spread out
    assert max(steps[8]) <= max(inp) + 1.0                          # no step beyond the input's own change


def test_a_scene_cut_refits_and_switches_at_once_and_drift_refits():
    rng = np.random.default_rng(1)
    a = [rng.integers(0, 120, (48, 64, 3)).astype(np.uint8)] * 4
    b = [rng.integers(120, 255, (48, 64, 3)).astype(np.uint8)] * 4
    stream = _stream(fade=8, refit_every=100)
    outs = [stream(f) for f in a + b]
    assert stream.lut.refits == 2 and stream.cuts == 1
    fresh = _stream(fade=8, refit_every=100)
    assert np.array_equal(outs[4], fresh(b[0]))                     # the cut frame has the new scene's LUT
    drifting = _stream(fade=0, refit_every=100, drift=0.03)
    for f in _ramp():
        drifting(f)
    assert drifting.lut.drifts >= 2 and drifting.lut.refits == 1 + drifting.lut.drifts
