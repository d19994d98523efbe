"""Capture keeps only the newest frame; a file plays as a camera at its own frame rate."""

import time

import numpy as np
import pytest
from media import make_clip

from rest_video.core.errors import MediaError
from rest_video.live.camera import FileCamera, LatestFrame, open_source


class FastSource:
    """A fake camera producing numbered frames as fast as asked (``period`` s apart)."""

    size, fps = (8, 6), 1000.0

    def __init__(self, n: int, period: float = 0.0) -> None:
        self.n, self.period, self.i = n, period, 0
        self.closed = False

    def read(self):
        if self.i >= self.n:
            return None
        if self.period:
            time.sleep(self.period)
        frame = np.full((6, 8, 3), self.i % 256, np.uint8)
        self.i += 1
        return frame, time.perf_counter()

    def close(self):
        self.closed = True


def test_latest_frame_returns_only_the_newest_and_drops_older():
    src = FastSource(50)
    grab = LatestFrame(src, start=False)
    grab.start()
    grab.join(5)                            # the source ran ahead of a consumer that never asked
    got = grab.get(timeout=1)
    assert got.seq == 49 and int(got.rgb[0, 0, 0]) == 49
    assert grab.dropped == 49 and grab.captured == 50
    assert grab.get(timeout=0.2) is None    # nothing newer: the end of the source
    assert grab.ended
    grab.stop()
    assert src.closed


def test_slow_consumer_never_sees_a_stale_frame():
    src = FastSource(60, period=0.002)
    seen = []
    with LatestFrame(src) as grab:
        while (c := grab.get(timeout=2)) is not None:
            seen.append(c.seq)
            time.sleep(0.02)               # consumer 10x slower than the camera
    assert seen == sorted(set(seen))        # strictly newer every time
    assert len(seen) < 30                   # most frames were dropped, not queued
    assert seen[-1] == 59 or 59 - seen[-1] < 12


def test_get_waits_for_a_new_frame():
    src = FastSource(2, period=0.15)
    with LatestFrame(src) as grab:
        a = grab.get(timeout=2)
        t0 = time.perf_counter()
        b = grab.get(timeout=2)
        assert b.seq == a.seq + 1 and time.perf_counter() - t0 > 0.05


def test_capture_error_reaches_the_consumer():
    class Broken(FastSource):
        def read(self):
            raise OSError("unplugged")

    with LatestFrame(Broken(1)) as grab:
        with pytest.raises(OSError, match="unplugged"):
            grab.get(timeout=2)


def test_file_camera_is_paced_by_its_frame_rate(tmp_path):
    clip = make_clip(tmp_path / "c.mp4", w=32, h=24, n=10, fps=20)
    cam = FileCamera(clip)
    assert cam.fps == pytest.approx(20) and cam.size == (32, 24)
    t0 = time.perf_counter()
    times = []
    while (got := cam.read()) is not None:
        times.append(got[1])
    elapsed = time.perf_counter() - t0
    cam.close()
    assert len(times) == 10
    assert 0.4 < elapsed < 0.9              # 10 frames at 20 fps: ~0.45 s after the first
    assert times[-1] - times[0] == pytest.approx(0.45, abs=0.1)


def test_file_camera_fps_override_resize_and_mirror(tmp_path):
    clip = make_clip(tmp_path / "c.mp4", w=32, h=24, n=4, fps=10)
    cam = FileCamera(clip, size=(16, 12), fps=1000, mirror=True)
    frames = []
    while (got := cam.read()) is not None:
        frames.append(got[0])
    cam.close()
    assert len(frames) == 4 and frames[0].shape == (12, 16, 3)


def test_file_camera_drops_frames_for_a_slow_consumer(tmp_path):
    clip = make_clip(tmp_path / "c.mp4", w=32, h=24, n=10, fps=50)
    seen = []
    with LatestFrame(open_source(str(clip))) as grab:
        while (c := grab.get(timeout=2)) is not None:
            seen.append(c.seq)
            time.sleep(0.06)                # 3 frame periods per frame
    assert 2 <= len(seen) <= 6 and grab.dropped >= 4


def test_open_source_rejects_a_missing_file(tmp_path):
    with pytest.raises(MediaError, match="neither a camera index"):
        open_source(str(tmp_path / "nope.mp4"))


class FakeCapture:
    """Stands in for cv2.VideoCapture: a 'camera' delivering BGR frames (or none, if ``opened`` is False)."""

    opened = True

    def __init__(self, index):
        self.index, self.props, self.n = index, {}, 0

    def isOpened(self):
        return self.opened

    def set(self, prop, value):
        self.props[prop] = value

    def get(self, prop):
        return 15.0

    def read(self):
        self.n += 1
        bgr = np.zeros((48, 64, 3), np.uint8)
        bgr[:, :32, 0] = 255                      # left half blue
        return True, bgr

    def release(self):
        pass


def test_opencv_camera_converts_resizes_and_mirrors(monkeypatch):
    from rest_video.live import camera

    monkeypatch.setattr(camera.cv2, "VideoCapture", FakeCapture)
    cam = camera.OpenCVCamera(0, size=(32, 24), mirror=True)
    rgb, t = cam.read()
    assert cam.fps == 15.0 and rgb.shape == (24, 32, 3)
    assert rgb[0, -1, 2] == 255 and rgb[0, 0, 2] == 0     # blue, now on the right (mirrored), in RGB order
    cam.close()


def test_missing_camera_is_a_device_error(monkeypatch):
    from rest_video.core.errors import DeviceError
    from rest_video.live import camera

    class Absent(FakeCapture):
        opened = False

    monkeypatch.setattr(camera.cv2, "VideoCapture", Absent)
    with pytest.raises(DeviceError, match="cannot open camera 3"):
        open_source("3")
