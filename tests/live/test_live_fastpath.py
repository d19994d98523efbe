"""The LUT fast path and the path choice, with a stand-in network that is a known colour grade."""

import time

import numpy as np
import pytest

from rest_video.live.camera import Captured
from rest_video.live.fastpath import FullPath, LutPath, choose_path
from rest_video.live.preview import Controls, View
from rest_video.live.session import LiveSession
from rest_video.live.sinks import MemorySink


class GradeStylizer:
    """Stands in for Stylizer: a global colour grade scaled by strength (what a LUT can represent)."""

    def __init__(self, delay: float = 0.0) -> None:
        self.calls, self.delay, self.filters = [], delay, []

    def stylize(self, frames, style, strength=None, stats_filter=None):
        self.calls.append(frames.shape)
        self.filters.append(stats_filter)
        if self.delay:
            time.sleep(self.delay * frames.shape[0] * frames.shape[1] / (64 * 48))
        a = 1.0 if strength is None else strength
        x = frames.astype(np.float32) / 255
        y = np.stack([x[..., 0] ** 0.7, 0.8 * x[..., 1] + 0.1 * style, x[..., 2] ** 1.3], -1)
        return np.rint(255 * np.clip(a * y + (1 - a) * x, 0, 1)).astype(np.uint8)


def frame(i: int, w: int = 96, h: int = 72) -> np.ndarray:
    y, x = np.mgrid[0:h, 0:w]
    return np.stack([(x * 2 + i) % 256, (y * 3 + 2 * i) % 256, (x + y + 5 * i) % 256], -1).astype(np.uint8)


def psnr(a, b):
    return 10 * np.log10(255 ** 2 / max(np.mean((a.astype(float) - b.astype(float)) ** 2), 1e-12))


def test_lut_path_reproduces_the_network_and_refits_on_schedule():
    st = GradeStylizer()
    lp = LutPath(st, 1.0, lut_size=17, refit_every=4, fit_side=48, background=False)
    outs = [lp(frame(i)) for i in range(9)]
    assert lp.refits == 3                                   # frame 0, then every 4 frames
    assert all(shape[:2] == (36, 48) for shape in st.calls) # fits run on the downscaled frame
    assert psnr(outs[-1], st.stylize(frame(8), 1.0)) > 33
    lp.set_strength(0.0)                                    # a change refits at the next frame
    out = lp(frame(9))
    assert lp.refits == 4 and psnr(out, frame(9)) > 40


def test_lut_path_refits_at_once_on_a_scene_cut():
    st = GradeStylizer()
    lp = LutPath(st, 1.0, lut_size=9, refit_every=100, fit_side=32, background=False)
    lp(frame(0))
    lp(frame(1))
    assert lp.refits == 1
    lp(255 - frame(2))                                      # a very different picture
    assert lp.refits == 2 and lp.cuts == 1


def test_lut_path_background_refits_do_not_block_frames():
    st = GradeStylizer(delay=0.05)
    lp = LutPath(st, 1.0, lut_size=9, refit_every=2, fit_side=64, background=True, smoothing=0.9)
    try:
        lp(frame(0))                                        # the first fit is synchronous
        t0 = time.perf_counter()
        for i in range(1, 11):
            lp(frame(i))
        per_frame = (time.perf_counter() - t0) / 10
        assert per_frame < 0.05                             # frames never waited for a refit
        lp.wait_idle()
        assert 2 <= lp.refits <= 6
        assert st.filters[-1] is lp.smoother and lp.smoother.smoothing == pytest.approx(0.9 ** 2)
    finally:
        lp.close()


def test_full_path_smooths_statistics():
    st = GradeStylizer()
    fp = FullPath(st, 1.0, smoothing=0.8)
    fp(frame(0))
    assert st.filters[-1] is fp.smoother
    assert FullPath(st, 1.0)(frame(0)).shape == (72, 96, 3)


def test_auto_path_choice_follows_measured_speed():
    slow = GradeStylizer(delay=0.03)                        # 30 ms for 64x48
    assert choose_path("auto", slow, 1.0, (640, 480), 30).path == "lut"
    fast = GradeStylizer()
    c = choose_path("auto", fast, 1.0, (64, 48), 30)
    assert c.path == "full" and c.full_ms is not None
    assert choose_path("full", slow, 1.0, (640, 480), 30).path == "full"


class ListGrabber:
    """Stands in for LatestFrame: hands out the given frames in order, then ends."""

    def __init__(self, frames):
        self.frames, self.captured, self.dropped, self.ended = list(frames), len(frames), 0, False

    def get(self, timeout=None):
        if not self.frames:
            self.ended = True
            return None
        return Captured(self.frames.pop(0), time.perf_counter(), 0)


class KeyPreview:
    """A preview that 'presses' keys in order instead of showing a window."""

    def __init__(self, keys):
        self.keys, self.shown = list(keys), []

    def show(self, rgb):
        self.shown.append(rgb.shape)
        return self.keys.pop(0) if self.keys else -1


class Invert:
    name = "test"

    def __init__(self):
        self.style, self.strength = "a", 1.0

    def __call__(self, rgb):
        return 255 - rgb

    def set_style(self, s):
        self.style = s

    def set_strength(self, a):
        self.strength = a


def test_session_hotkeys_drive_processor_sinks_and_snapshots(tmp_path):
    proc, sink = Invert(), MemorySink()
    preview = KeyPreview([ord("2"), ord("-"), ord("v"), ord("s"), ord("v"), -1, ord("q")])
    session = LiveSession(ListGrabber([frame(i) for i in range(20)]), proc, ["a", "b"], Controls(n_styles=2),
                          [sink], preview, snapshot_dir=tmp_path)
    stats = session.run()
    assert proc.style == "b" and proc.strength == pytest.approx(0.9)
    assert stats.frames == 7 and sink.count == 7 and len(stats.latencies) == 7   # q ended it
    assert preview.shown[0] == (72, 96, 3) and preview.shown[3] == (72, 192, 3)  # side-by-side after v
    assert len(stats.snapshots) == 1 and stats.snapshots[0].exists()
    assert np.array_equal(sink.frames[0], 255 - frame(0))        # stylized view: sinks get the output
    assert np.array_equal(sink.frames[6], frame(6))              # original view: sinks get the input
    assert session.controls.view == View.ORIGINAL


def test_session_stops_after_max_frames_and_reports():
    session = LiveSession(ListGrabber([frame(i) for i in range(10)]), Invert(), ["a"], Controls(), max_frames=4)
    stats = session.run()
    assert stats.frames == 4 and stats.fps > 0
    assert "4 frames" in stats.summary() and "path test" in stats.summary()
