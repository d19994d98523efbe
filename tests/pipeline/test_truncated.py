"""Inputs that end early: a truncated file says "input ended after N of M frames" (and --strict makes
that an error with no output), while a variable-rate AVI, whose count is of time-base ticks, is not
mistaken for one."""

from fractions import Fraction

import av
import pytest
from media import make_clip, read_frames

from rest_video.cli.main import main
from rest_video.io.video import VideoReader


@pytest.fixture
def truncated(tmp_path):
    """An MP4 of 20 frames with its index at the front (+faststart), cut after 60 % of its bytes:
    the container still says 20 frames, the data holds fewer."""
    src = make_clip(tmp_path / "src.mp4", n=20, audio=True)
    whole = tmp_path / "whole.mp4"
    with av.open(str(src)) as i, av.open(str(whole), "w", options={"movflags": "+faststart"}) as o:
        streams = {s.index: o.add_stream_from_template(s) for s in i.streams}
        for p in i.demux():
            if p.dts is not None:
                p.stream = streams[p.stream.index]
                o.mux(p)
    data = whole.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) * 6 // 10])
    src.unlink()
    whole.unlink()
    return cut


def _run(args, capsys):
    rc = main([str(a) for a in args])
    return rc, capsys.readouterr().err.strip().splitlines()


def test_a_truncated_input_warns(tmp_path, capsys, truncated, style_image, random_weights):
    out = tmp_path / "out.mp4"
    rc, err = _run([truncated, style_image, out, "--checkpoint", random_weights, "-q"], capsys)
    n = len(read_frames(out)[0])
    assert rc == 0 and 0 < n < 20  # was: exit 0 and not a word
    assert err == [
        f"rest-video: warning: {truncated}: input ended after {n} of 20 frames (the output has the "
        "frames there were; --strict makes this an error)"
    ]


def test_strict_makes_it_an_error_with_no_output(tmp_path, capsys, truncated, style_image, random_weights):
    out = tmp_path / "out.mp4"
    rc, err = _run([truncated, style_image, out, "--checkpoint", random_weights, "-q", "--strict"], capsys)
    assert rc == 2 and len(err) == 1 and "input ended after" in err[0] and "of 20 frames" in err[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cut.mp4"]   # no output, no temporary file


def test_whole_inputs_are_not_flagged(tmp_path):
    vfr = make_clip(tmp_path / "vfr.avi", n=6, pts=[0, 4, 9, 13, 20, 30], time_base=Fraction(1, 15), fps=15,
                    codec="mpeg4")
    whole = make_clip(tmp_path / "whole.mp4", n=8)
    counts = {}
    for path in (vfr, whole):
        with VideoReader(path) as r:
            counts[path] = (sum(1 for _ in r.frames()), r.info.frames)
            assert r.ended_early() is None, path
    assert counts[vfr][0] == 6 and counts[vfr][1] > 6                # the AVI declares 31 ticks for 6 frames
    assert counts[whole] == (8, 8)


def test_max_frames_is_not_an_early_end(tmp_path, capsys, truncated, style_image, random_weights):
    out = tmp_path / "out.mp4"
    rc, err = _run([truncated, style_image, out, "--checkpoint", random_weights, "-q", "--strict",
                    "--max-frames", "3"], capsys)
    assert rc == 0 and err == [] and len(read_frames(out)[0]) == 3
