"""File mode's frame source and sink: one interface for whole files, segments and live sinks."""

from fractions import Fraction

import numpy as np
import pytest
from media import make_clip, read_frames

from rest_video.core.config import load_pipeline
from rest_video.engine.stylizer import Stylizer
from rest_video.io.video import VideoReader
from rest_video.live.sinks import MemorySink
from rest_video.pipeline import FileOptions, stylize_file
from rest_video.pipeline.frames import FileSink, ReaderSource, SegmentSource


@pytest.fixture
def cfg(random_weights):
    return load_pipeline(None, {"model.checkpoint": str(random_weights), "output.preset": "ultrafast"})


def test_options_and_keywords_are_the_same_call(tmp_path, cfg, style_image):
    src = make_clip(tmp_path / "in.mp4", n=6)
    st = Stylizer(cfg)
    a = stylize_file(src, style_image, tmp_path / "a.mp4", cfg, stylizer=st, progress=False, max_frames=4,
                     strength=0.5, overlap=False)
    b = stylize_file(src, style_image, tmp_path / "b.mp4", None,
                     FileOptions(progress=False, max_frames=4, strength=0.5), stylizer=st, overlap=False)
    fa, fb = read_frames(tmp_path / "a.mp4")[0], read_frames(tmp_path / "b.mp4")[0]
    assert a.frames == b.frames == len(fa) == 4 and all(
        np.array_equal(x, y) for x, y in zip(fa, fb, strict=True)
    )
    import rest_video

    assert rest_video.FileOptions is FileOptions
    with pytest.raises(TypeError, match="no_such_option"):
        stylize_file(src, style_image, tmp_path / "c.mp4", cfg, no_such_option=1)


def test_a_segment_source_yields_its_window_and_marks_the_warm_up(tmp_path):
    src = make_clip(tmp_path / "in.mkv", n=10, pts=list(range(0, 1000, 100)), time_base=Fraction(1, 1000))
    with VideoReader(src) as r:
        whole = [f.pts for f in ReaderSource(r).frames()]
    with VideoReader(src) as r:
        seg = SegmentSource(r, warm_from=200, start=400, end=700)
        assert [f.pts for f in seg.frames()] == [200, 300, 400, 500, 600]
        assert seg.warm_until == 400 and seg.audio_streams == [] and seg.other_streams == []
    assert whole == list(range(0, 1000, 100))


def test_file_and_live_sinks_take_the_same_frames(tmp_path):
    src = make_clip(tmp_path / "in.mp4", n=3)
    memory = MemorySink()
    with VideoReader(src) as r:
        source = ReaderSource(r)
        sink = FileSink(tmp_path / "out.mp4", source, load_pipeline().output)
        for fr in source.frames():
            for s in (sink, memory):
                s.send(fr.rgb, fr)
        sink.close()
    assert len(read_frames(tmp_path / "out.mp4")[0]) == memory.count == 3
