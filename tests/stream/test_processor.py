"""StreamStylizer: the one composition of smoothing -> stylize -> stabilize, checked against the same
chain wired by hand from the lower-level public API (bit for bit), and its controls."""

from dataclasses import replace

import numpy as np
import pytest
from media import make_frame
from stand_ins import GradeStylizer, frame

from rest_video import Stylizer, load_pipeline
from rest_video.core.errors import ConfigError
from rest_video.ops.color import downscale
from rest_video.ops.detail import add_detail
from rest_video.ops.lut import LutApplier
from rest_video.ops.opacity import blend
from rest_video.stream import PixelStabilizer, StatsSmoother, StreamStylizer, make_stabilizer
from rest_video.stream.lut import fit_look
from rest_video.stream.stabilizer import make_input_stabilizer


@pytest.fixture
def stylizer(random_weights):
    return Stylizer(load_pipeline(None, {"model.checkpoint": str(random_weights), "runtime.device": "cpu",
                                         "style.cache": False}))


def clip(n=6, w=48, h=40):
    return [make_frame(w, h, i) for i in range(n)]


def test_full_path_is_the_hand_wired_chain_bit_for_bit(stylizer, style_image):
    style = stylizer.load_style(style_image)
    t = stylizer.cfg.temporal
    smoother, stab = StatsSmoother(t.smoothing, t.scene_cut), make_stabilizer(t)
    expected = []
    for f in clip():
        smoother.observe(f)
        expected.append(
            blend(f, stab(f, stylizer.stylize(f, style, 1.0, smoother)), 0.8)
        )  # strength comes last
    stream = StreamStylizer(stylizer, style, strength=0.8)
    got = [stream(f) for f in clip()]
    assert isinstance(stream.stabilizer, PixelStabilizer) and stream.strength == 0.8
    assert all(np.array_equal(a, b) for a, b in zip(got, expected, strict=False))


def test_file_mode_steps_equal_the_call(stylizer, style_image):
    """observe + runner + stabilize (file mode's overlapped form) give what __call__ gives."""
    style = stylizer.load_style(style_image)
    a, b = StreamStylizer(stylizer, style), StreamStylizer(stylizer, style)
    runner = b.runner()
    for f in clip():
        b.observe(f)
        [(out, meta)] = runner.submit(f, "m")
        assert meta == "m" and np.array_equal(a(f), b.stabilize(f, out))
    assert runner.flush() == []


def test_lut_path_is_the_hand_wired_chain(stylizer, style_image):
    style = stylizer.load_style(style_image)
    cfg = replace(
        stylizer.cfg, live=replace(stylizer.cfg.live, refit_every=100, fit_side=24, lut_size=9, drift=1.0)
    )
    t = replace(cfg.temporal, smoothing=0.0)
    stream = StreamStylizer(stylizer, style, cfg, path="lut", temporal=t, background=False)
    frames = clip(3)
    got = [stream(f) for f in frames]
    hold = make_input_stabilizer(t)
    held = [hold(f).copy() for f in frames]                         # the input held where it stood still
    small = downscale(held[0], 24)
    table, gains = fit_look(small, stylizer.stylize(small, style), 9)
    assert gains is not None and np.any(gains)                      # the detail term is on by default
    # one fit (no cut, no refit due)
    expected = [add_detail(h, LutApplier(table)(h), gains) for h in held]  # the term stands for the guard
    assert stream.lut.refits == 1
    assert all(np.array_equal(x, y) for x, y in zip(got, expected, strict=False))
    stream.close()


def test_strength_is_resolved_once_and_range_checked(stylizer, style_image):
    style = stylizer.load_style(style_image)
    assert StreamStylizer(stylizer, style).strength == stylizer.cfg.style.strength
    stream = StreamStylizer(stylizer, style, strength=0.25)
    assert stream.strength == 0.25
    with pytest.raises(ConfigError, match=r"strength must be in \[0, 1\]"):
        stream.set_strength(1.5)
    with pytest.raises(ConfigError, match="strength"):
        StreamStylizer(stylizer, style, strength=-0.1)
    f = make_frame(48, 40, 1)
    stream = StreamStylizer(stylizer, style, strength=1.0, stabilize=False)
    full = stream(f)
    stream.set_strength(0.0)                       # a new strength reaches the next frame
    assert stream.strength == 0.0
    assert np.array_equal(stream(f), f) and not np.array_equal(full, f)   # strength 0: the input itself


def test_set_style_and_strength_reach_the_lut_path():
    st = GradeStylizer()
    stream = StreamStylizer(st, 1.0, path="lut", background=False, stabilize=False)
    full = stream(frame(0))
    assert stream.lut.refits == 1
    stream.set_strength(0.0)                       # strength is an opacity: no refit, the input exactly
    assert np.array_equal(stream(frame(0)), frame(0)) and not np.array_equal(full, frame(0))
    stream.set_strength(0.5)
    half = stream(frame(0)).astype(int)
    assert stream.lut.refits == 1 and np.abs(2 * half - full.astype(int) - frame(0)).max() <= 1
    stream.set_style(0.0)
    stream(frame(2))
    assert stream.lut.refits == 2 and stream.lut.style == 0.0 and stream.describe().startswith("3D LUT")
    stream.close()


def test_full_path_smooths_statistics_and_can_leave_them():
    st = GradeStylizer()
    stream = StreamStylizer(st, 1.0, stabilize=False)
    stream(frame(0))
    assert st.filters[-1] is stream.smoother and stream.smoother.smoothing == st.cfg.temporal.smoothing
    off = StreamStylizer(st, 1.0, temporal=replace(st.cfg.temporal, smoothing=0.0))
    off(frame(0))
    assert off.smoother is None and st.filters[-1] is None and off.cuts == 0


def test_bad_path_is_refused():
    with pytest.raises(ValueError, match="path"):
        StreamStylizer(GradeStylizer(), 1.0, path="fast")



def test_the_lut_runner_is_the_lut_path_frame_by_frame():
    """File mode's stylize stage on the LUT path: the frames the stream itself gives, in order (the
    shadow guard runs a frame or two behind in its own thread; flush gives the rest)."""
    a = StreamStylizer(GradeStylizer(), 1.0, path="lut", background=False)
    b = StreamStylizer(GradeStylizer(), 1.0, path="lut", background=False)
    runner = b.runner()
    done = []
    for i in range(5):
        done += runner.submit(frame(i), i)
        assert len(done) >= i + 1 - runner.IN_FLIGHT
    done += runner.flush()
    assert [meta for _, meta in done] == list(range(5))
    for out, i in done:
        assert np.array_equal(b.stabilize(frame(i), out), a(frame(i)))
    with pytest.raises(ConfigError, match="masks need the full network"):
        runner.submit(frame(0), 0, content_mask=np.zeros((72, 96), np.uint8))


def test_the_lut_runner_guards_shadows_as_the_stream_does(stylizer, style_image):
    """With the real network and dark frames (the shadow guard acts), the runner's frames equal
    the stream's own, bit for bit, and every frame comes back once."""
    dark = [(make_frame(64, 48, i).astype(np.float32) * 0.15).astype(np.uint8) for i in range(6)]
    style = stylizer.load_style(style_image)
    cfg = replace(stylizer.cfg, live=replace(stylizer.cfg.live, detail=False))   # the guard's own pass
    c = StreamStylizer(stylizer, style, cfg, path="lut", background=False)
    held = c.hold(dark[0])
    mapped = c.lut.map(held)
    assert not np.array_equal(c.lut.finish(held, mapped), mapped)  # the guard acts on these frames
    a = StreamStylizer(stylizer, style, cfg, path="lut", background=False)
    b = StreamStylizer(stylizer, style, cfg, path="lut", background=False)
    runner = b.runner()
    done = [item for i, f in enumerate(dark) for item in runner.submit(f, i)] + runner.flush()
    assert [i for _, i in done] == list(range(6))
    for (out, _), f in zip(done, dark, strict=True):
        assert np.array_equal(b.stabilize(f, out), a(f))


def test_a_failure_in_the_guard_thread_reaches_the_caller():
    b = StreamStylizer(GradeStylizer(), 1.0, path="lut", background=False)
    runner = b.runner()

    def broken(rgb, mapped, work=None, gains=None):
        raise RuntimeError("guard failed")

    b.lut.finish = broken
    with pytest.raises(RuntimeError, match="guard failed"):
        for i in range(runner.IN_FLIGHT + 2):
            runner.submit(frame(i), i)
        runner.flush()


def test_with_the_detail_term_the_lut_path_finishes_without_a_guard_pass(stylizer, style_image):
    """The term stands for the shadow guard's full-resolution pass (EVAL.md, "The local-contrast term")."""
    dark = (make_frame(64, 48, 0).astype(np.float32) * 0.15).astype(np.uint8)
    c = StreamStylizer(stylizer, stylizer.load_style(style_image), path="lut", background=False)
    held = c.hold(dark)
    mapped = c.lut.map(held)
    out = c.lut.finish(held, mapped)
    assert np.array_equal(out, add_detail(held, mapped, c.lut.gains))
    assert not np.array_equal(out, stylizer.finish(held, out))                 # a guard pass would change it
