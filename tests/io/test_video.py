"""rest_video.io.video: reader and writer keep size, frame count, time base and timestamps."""

from fractions import Fraction

import numpy as np
import pytest
from media import make_clip, make_frame

from rest_video.core.config import OutputCfg
from rest_video.core.errors import MediaError
from rest_video.io.video import VideoInfo, VideoReader
from rest_video.io.video_writer import VideoWriter


def test_writer_then_reader_keep_timestamps_and_size(tmp_path):
    info = VideoInfo(width=48, height=32, time_base=Fraction(1, 1000), rate=Fraction(25), frames=5)
    pts = [0, 40, 100, 140, 300]                                   # variable frame rate
    with VideoWriter(tmp_path / "v.mp4", info, OutputCfg(preset="ultrafast")) as w:
        for i, p in enumerate(pts):
            w.write(make_frame(48, 32, i), p)
    with VideoReader(tmp_path / "v.mp4") as r:
        assert (r.info.width, r.info.height) == (48, 32)
        frames = list(r.frames())
    assert [f.index for f in frames] == list(range(5))
    got = [f.pts * r.info.time_base for f in frames]
    assert got == [Fraction(p, 1000) for p in pts]
    assert all(f.rgb.shape == (32, 48, 3) and f.rgb.dtype == np.uint8 for f in frames)


def test_reader_errors(tmp_path):
    with pytest.raises(MediaError):
        VideoReader(tmp_path / "missing.mp4")
    (tmp_path / "junk.mp4").write_bytes(b"junk" * 100)
    with pytest.raises(MediaError):
        with VideoReader(tmp_path / "junk.mp4") as r:
            list(r.frames())


def test_close_from_another_thread_waits_for_decoding_and_ends_it(tmp_path):
    """File mode decodes in a thread while an interrupt closes the reader in the main thread: closing
    under a running decode crashed FFmpeg (a segfault in CI); now close waits and frames() ends."""
    import threading
    import time

    clip = make_clip(tmp_path / "c.mp4", n=40, audio=True)
    reader = VideoReader(clip)
    got, errors, started = [], [], threading.Event()

    def decode():
        try:
            for fr in reader.frames(on_audio=lambda p: None):
                got.append(fr.index)
                started.set()
                time.sleep(0.01)
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    t = threading.Thread(target=decode)
    t.start()
    assert started.wait(30)
    reader.close()
    t.join(30)
    assert not t.is_alive() and not errors
    assert 0 < len(got) < 40 and got == list(range(len(got)))
    assert list(reader.frames()) == []                     # a closed reader decodes nothing
