"""Sinks: the in-memory sink, and the virtual camera's message when nothing can back it."""

import sys
import types

import numpy as np
import pytest

from rest_video.core.errors import DeviceError
from rest_video.live.sinks import MemorySink, VirtualCamSink


def test_memory_sink_keeps_frames():
    with MemorySink(keep=2) as s:
        for i in range(5):
            s.send(np.full((4, 6, 3), i, np.uint8))
    assert s.count == 5 and s.closed and [int(f[0, 0, 0]) for f in s.frames] == [3, 4]


def test_virtual_cam_without_pyvirtualcam_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "pyvirtualcam", None)      # import fails
    with pytest.raises(DeviceError, match=r"rest-video\[live\]"):
        VirtualCamSink(64, 48, 30)


def test_virtual_cam_without_backend_names_what_to_install(monkeypatch):
    def no_device(*a, **k):
        raise RuntimeError("'v4l2loopback' backend: No v4l2 loopback device found at /dev/video[0-99].")

    fake = types.SimpleNamespace(Camera=no_device, PixelFormat=types.SimpleNamespace(RGB="RGB"))
    monkeypatch.setitem(sys.modules, "pyvirtualcam", fake)
    with pytest.raises(DeviceError) as e:
        VirtualCamSink(64, 48, 30)
    msg = str(e.value)
    assert "v4l2loopback" in msg and "OBS" in msg and "\n" not in msg


def test_virtual_cam_sends_frames_of_its_size(monkeypatch):
    sent = []

    class Cam:
        device = "/dev/video9"

        def __init__(self, width, height, fps, fmt, device, backend):
            self.size = (width, height)

        def send(self, frame):
            sent.append(frame.shape)

        def close(self):
            sent.append("closed")

    monkeypatch.setitem(sys.modules, "pyvirtualcam",
                        types.SimpleNamespace(Camera=Cam, PixelFormat=types.SimpleNamespace(RGB="RGB")))
    with VirtualCamSink(8, 6, 30) as v:
        v.send(np.zeros((6, 8, 3), np.uint8))
        with pytest.raises(ValueError):
            v.send(np.zeros((5, 8, 3), np.uint8))
    assert sent == [(6, 8, 3), "closed"]
