"""Colour standards survive: the output has the input's matrix, range, primaries and transfer, and
at strength 0 with the filters off its pixels are the input's within the codec's error."""

import av
import numpy as np
import pytest
from media import make_clip, smooth_image

from rest_video.cli.main import main
from rest_video.io.colour import ColourTags, from_rgb, to_rgb

FILTERS_OFF = ["--set", "temporal.smoothing=0", "--set", "temporal.pixel_smoothing=0",
               "--set", "temporal.chroma_sigma=0"]

# (matrix, range, primaries, transfer), FFmpeg's numbers; size: HD decides an untagged matrix
CASES = {
    "bt601": ((6, 1, 6, 6), (256, 64)),
    "bt709": ((1, 1, 1, 1), (256, 64)),
    "full-range-709": ((1, 2, 1, 1), (256, 64)),
    "full-range-601": ((5, 2, 5, 6), (256, 64)),
    "untagged-hd": ((2, 0, 2, 2), (1280, 32)),
}
# measured on these clips (x264 --crf 10 twice): Y/U/V planes 0.35-0.54 levels, RGB 0.83-1.22;
# the same output decoded with the other matrix is 4.4-6.2 levels off in RGB
YUV_ERROR = 0.75   # mean |difference| of the Y, U and V planes (levels)
RGB_ERROR = 1.5    # mean |difference| of the RGB pictures, each decoded by its own tags


def _pictures(w, h, n=3):
    """Smooth, saturated pictures (the codec's error stays small, a matrix error does not)."""
    rng = np.random.default_rng(1)
    return [smooth_image(rng, h, w, 20, 235) for _ in range(n)]


def _planes(path):
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        cc = s.codec_context
        tags = (cc.colorspace, cc.color_range, cc.color_primaries, cc.color_trc)
        info = ColourTags.of(cc, cc.pix_fmt)
        yuv, rgb = [], []
        for f in c.decode(s):
            yuv.append(f.to_ndarray().astype(np.int16))
            rgb.append(to_rgb(f, info).astype(np.int16))
        return tags, cc.pix_fmt, yuv, rgb


@pytest.mark.parametrize("case", sorted(CASES))
def test_strength_0_gives_back_the_input_with_its_tags(tmp_path, style_image, random_weights, case):
    colour, (w, h) = CASES[case]
    src = make_clip(tmp_path / "in.mp4", w=w, h=h, n=3, colour=colour if case != "untagged-hd" else None,
                    frames=_pictures(w, h))
    out = tmp_path / "out.mp4"
    assert main([str(src), str(style_image), str(out), "--strength", "0", "--checkpoint", str(random_weights),
                 "--crf", "10", "-q", *FILTERS_OFF]) == 0
    tags_in, fmt_in, yuv_in, rgb_in = _planes(src)
    tags_out, fmt_out, yuv_out, rgb_out = _planes(out)
    assert tags_out == tags_in and fmt_out == fmt_in    # (full range decodes as yuvj420p)
    assert len(yuv_out) == len(yuv_in) == 3
    for a, b in zip(yuv_in, yuv_out, strict=False):
        assert np.abs(a - b).mean() <= YUV_ERROR
    for a, b in zip(rgb_in, rgb_out, strict=False):
        assert np.abs(a - b).mean() <= RGB_ERROR


def test_the_matrix_follows_the_tag_and_the_untagged_rule():
    """The same RGB picture encodes to different YUV under BT.601 and BT.709, and decodes back under
    each; untagged follows the picture size (HD: BT.709)."""
    rgb = np.zeros((32, 1280, 3), np.uint8)
    rgb[..., 0] = 191                                                 # the red bar
    f709 = from_rgb(rgb, ColourTags(1, 1, 1, 1), "yuv420p")
    f601 = from_rgb(rgb, ColourTags(6, 1, 6, 6), "yuv420p")
    y709, y601 = f709.to_ndarray()[0, 0], f601.to_ndarray()[0, 0]
    assert abs(int(y709) - int(y601)) > 10                            # 0.2126 vs 0.299 of red
    assert np.abs(to_rgb(f709, ColourTags(1, 1)).astype(int) - rgb).max() <= 2
    assert np.abs(to_rgb(f601, ColourTags(6, 1)).astype(int) - rgb).max() <= 2
    untagged_hd = from_rgb(rgb, ColourTags(), "yuv420p")
    assert untagged_hd.to_ndarray()[0, 0] == y709
    untagged_sd = from_rgb(rgb[:, :64], ColourTags(), "yuv420p")
    assert untagged_sd.to_ndarray()[0, 0] == y601
    full = from_rgb(rgb, ColourTags(1, 2), "yuv420p")
    assert full.color_range == 2 and full.to_ndarray()[0, 0] != y709  # full range spans 0-255
    assert np.abs(to_rgb(full, ColourTags(1, 2)).astype(int) - rgb).max() <= 2


@pytest.mark.parametrize("case", ["bt709", "full-range-601"])
def test_avi_holds_no_tags_so_it_is_written_as_players_read_untagged(tmp_path, style_image, random_weights,
                                                                     case, capsys):
    """MPEG-4 part 2 in AVI carries no colour tags: the pixels are converted to what a player assumes
    for an untagged SD picture (BT.601, limited), with one note. Measured: 1.43-1.46 levels RGB at
    --crf 0 (the codec's own error); written with the input's matrix instead: 5.8-6.6."""
    colour, (w, h) = CASES[case]
    src = make_clip(tmp_path / "in.mp4", w=w, h=h, n=3, colour=colour, frames=_pictures(w, h))
    out = tmp_path / "out.avi"
    assert main([str(src), str(style_image), str(out), "--strength", "0", "--checkpoint", str(random_weights),
                 "--crf", "0", *FILTERS_OFF]) == 0
    notes = [line for line in capsys.readouterr().err.splitlines() if "note:" in line]
    assert len(notes) == 1 and "holds no colour tags: written as BT.601, limited range" in notes[0], notes
    tags_out, _, _, rgb_out = _planes(out)
    assert tags_out[:2] == (2, 0)   # untagged
    for a, b in zip(_planes(src)[3], rgb_out, strict=False):
        assert np.abs(a - b).mean() <= 2.0


@pytest.mark.parametrize("ext", [".mkv", ".mov", ".webm"])
def test_every_container_keeps_the_tags(tmp_path, style_image, random_weights, ext):
    colour, (w, h) = CASES["bt709"]
    src = make_clip(tmp_path / "in.mp4", w=w, h=h, n=3, colour=colour, frames=_pictures(w, h))
    out = tmp_path / f"out{ext}"
    assert main([str(src), str(style_image), str(out), "--strength", "0", "--checkpoint", str(random_weights),
                 "--crf", "10", "-q", *FILTERS_OFF]) == 0
    tags_out, _, _, rgb_out = _planes(out)
    assert tags_out == colour
    for a, b in zip(_planes(src)[3], rgb_out, strict=False):
        assert np.abs(a - b).mean() <= 2.5
