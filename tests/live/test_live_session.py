"""The live loop (hotkeys, sinks, snapshots) and the choice of path, with stand-ins."""

import time

import numpy as np
import pytest
from stand_ins import GradeStylizer, frame

from rest_video.live.autopath import choose_path
from rest_video.live.camera import Captured
from rest_video.live.preview import Controls, View
from rest_video.live.session import LiveSession
from rest_video.live.sinks import MemorySink


def test_auto_path_choice_follows_measured_speed():
    slow = GradeStylizer(delay=0.03)                        # 30 ms for 64x48
    assert choose_path("auto", slow, 1.0, (640, 480), 30).path == "lut"
    fast = GradeStylizer()
    c = choose_path("auto", fast, 1.0, (64, 48), 30)
    assert c.path == "full" and c.full_ms is not None
    assert choose_path("full", slow, 1.0, (640, 480), 30).path == "full"


def test_auto_path_leaves_the_loop_its_share_of_a_frame():
    """A network that fits a frame's time only just (28 ms of 33 at 30 fps) leaves nothing for
    capture, filters and outputs: the LUT; at 20 fps (50 ms) it is the full network."""
    near = GradeStylizer(delay=0.028)
    c = choose_path("auto", near, 1.0, (64, 48), 30)
    assert c.path == "lut" and c.full_ms >= 28 and "75% of a frame" in c.reason
    assert choose_path("auto", near, 1.0, (64, 48), 20).path == "full"


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
    session = LiveSession(
        ListGrabber([frame(i) for i in range(10)]), Invert(), ["a"], Controls(), max_frames=4
    )
    stats = session.run()
    assert stats.frames == 4 and stats.fps > 0
    assert "4 frames" in stats.summary() and "path test" in stats.summary()
