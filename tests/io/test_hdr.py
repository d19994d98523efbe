"""HDR (PQ, HLG; BT.2020) to the network's SDR domain and back: the transfer functions, and clips
that come back within a stated error at strength 0."""

import av
import cv2
import numpy as np
import pytest
from media import make_clip, make_frame

from rest_video.cli.main import main
from rest_video.io.colour import ColourTags, from_rgb, to_rgb
from rest_video.io.hdr import (
    TRC_HLG,
    TRC_PQ,
    bt709_from_sdr,
    hdr16_from_sdr,
    hdr_from_sdr,
    hlg_inverse_oetf,
    hlg_oetf,
    pq_eotf,
    pq_inverse_eotf,
    sdr_from_hdr,
    sdr_from_hdr16,
)

HDR_TAGS = {TRC_PQ: (9, 1, 9, TRC_PQ), TRC_HLG: (9, 1, 9, TRC_HLG)}  # BT.2020 matrix, limited, BT.2020


def test_transfer_functions():
    e = np.linspace(0, 1, 1001)
    assert np.allclose(pq_inverse_eotf(pq_eotf(e)), e, atol=1e-6)         # PQ(0 nits) is 7.3e-7
    assert pq_eotf(np.array([0.0, 1.0])).tolist() == pytest.approx([0.0, 10000.0])
    assert float(pq_eotf(np.array(0.58))) == pytest.approx(203, rel=0.02)  # BT.2408: 58 % PQ is 203 nits
    assert np.allclose(hlg_oetf(hlg_inverse_oetf(e)), e, atol=1e-9)
    assert float(hlg_inverse_oetf(np.array(0.5))) == pytest.approx(1 / 12)


def test_pq_tables_give_the_formulas_numbers():
    rng = np.random.default_rng(0)
    s16 = rng.integers(0, 65536, (50, 60, 3)).astype(np.uint16)
    assert np.array_equal(sdr_from_hdr16(s16, TRC_PQ), sdr_from_hdr(s16 / 65535.0, TRC_PQ))
    s8 = rng.integers(0, 256, (50, 60, 3)).astype(np.uint8)
    direct = np.rint(hdr_from_sdr(s8, TRC_PQ) * 65535).astype(np.uint16)
    assert np.array_equal(hdr16_from_sdr(s8, TRC_PQ), direct)


def test_hlg_tables_stay_within_one_step_of_the_formulas():
    """HLG's per-frame maps use tables and float32 (7x faster at 1080p); against the float64
    formulas: SDR levels at most 1 off, on a tiny share of values; the 16-bit signal within 1 code."""
    rng = np.random.default_rng(0)
    s16 = rng.integers(0, 65536, (200, 300, 3)).astype(np.uint16)
    sdr = sdr_from_hdr16(s16, TRC_HLG)
    err = np.abs(sdr.astype(int) - sdr_from_hdr(s16 / 65535.0, TRC_HLG))
    assert err.max() <= 1 and (err > 0).mean() < 1e-3
    back = np.rint(hdr_from_sdr(sdr, TRC_HLG).astype(np.float64) * 65535)
    assert np.abs(hdr16_from_sdr(sdr, TRC_HLG) - back).max() <= 1


def test_sdr_domain_round_trip():
    """What the network makes comes back from PQ as it was; from HLG too, except saturated colours
    brighter than HLG carries (measured: 6.5 % of the test picture's pixels)."""
    sdr = make_frame(64, 48, 3)
    assert np.abs(sdr_from_hdr(hdr_from_sdr(sdr, TRC_PQ), TRC_PQ).astype(int) - sdr).max() == 0
    err = np.abs(sdr_from_hdr(hdr_from_sdr(sdr, TRC_HLG), TRC_HLG).astype(int) - sdr).max(-1)
    assert (err > 1).mean() < 0.07
    grey = np.full((4, 4, 3), 200, np.uint8)
    assert np.array_equal(sdr_from_hdr(hdr_from_sdr(grey, TRC_HLG), TRC_HLG), grey)


def smooth(i, w=64, h=48):
    """A 16-bit BT.2020 signal frame (off the SDR domain's grid), moving with ``i``."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    rgb = np.stack([0.1 + 0.8 * x / w, 0.1 + 0.8 * y / h, 0.3 + 0.3 * np.sin((x + y + 4 * i) / 9)], -1)
    return np.rint(rgb * 65535).astype(np.uint16)


def hdr_clip(path, trc):
    return make_clip(path, n=3, pix_fmt="yuv420p10le", frames=[smooth(i) for i in range(3)],
                     colour=HDR_TAGS[trc])


@pytest.mark.parametrize("trc", [TRC_PQ, TRC_HLG])
def test_frames_through_the_sdr_domain_come_back(tmp_path, trc):
    """Decoded 10-bit frames -> SDR (what the network sees; at strength 0 its output) -> 10-bit
    again, as the writer encodes them. Measured (10-bit codes): luma max 5 (PQ) / 2 (HLG), mean
    0.8 / 0.6; chroma max 11 / 11, mean 3.8 / 3.7 (4:2:0 chroma through a non-linear map)."""
    clip = hdr_clip(tmp_path / "in.mkv", trc)
    with av.open(str(clip)) as c:
        tags = ColourTags.of(c.streams.video[0].codec_context, "yuv420p10le")
        assert tags.hdr
        err = np.stack([np.abs(f.to_ndarray().astype(int) - from_rgb(to_rgb(f, tags), tags, "yuv420p10le")
                               .to_ndarray().astype(int)) for f in c.decode(video=0)])
    luma, chroma = err[:, :48], err[:, 48:]
    assert luma.max() <= 6 and luma.mean() < 1.0
    assert chroma.max() <= 12 and chroma.mean() < 4.5


def planes(path):
    with av.open(str(path)) as c:
        return np.stack([f.to_ndarray() for f in c.decode(video=0)]).astype(int)


@pytest.mark.parametrize("trc", [TRC_PQ, TRC_HLG])
def test_hdr_clip_at_strength_0_keeps_tags_and_depth(tmp_path, style_image, random_weights, trc, capsys):
    """The whole pipeline at strength 0, x264 at --crf 0: the planes come back within 16 10-bit codes
    (measured: max 13 PQ / 12 HLG, mean 1.9 / 1.7; the encoder adds to the conversion's error)."""
    clip = hdr_clip(tmp_path / "in.mkv", trc)
    out = tmp_path / "out.mkv"
    assert main([str(clip), str(style_image), str(out), "--strength", "0", "--crf", "0",
                 "--checkpoint", str(random_weights)]) == 0
    notes = [line for line in capsys.readouterr().err.splitlines() if "is HDR" in line]
    assert len(notes) == 1 and "mapped back and written as" in notes[0]
    with av.open(str(out)) as c:
        cc = c.streams.video[0].codec_context
        assert cc.pix_fmt == "yuv420p10le"
        assert (int(cc.colorspace), int(cc.color_primaries), int(cc.color_trc)) == (9, 9, trc)
    a, b = planes(clip), planes(out)
    err = np.abs(a - b)
    assert a.shape == b.shape and err.max() <= 16 and err.mean() < 3, (err.max(), err.mean())


def decoded_rgb(path):
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        tags = ColourTags.of(s.codec_context, s.codec_context.pix_fmt)
        return tags, np.stack([to_rgb(f, tags) for f in c.decode(s)]).astype(int)


@pytest.mark.parametrize("trc", [TRC_PQ, TRC_HLG])
def test_sdr_flag_tone_maps_to_bt709(tmp_path, style_image, random_weights, trc, capsys):
    """--sdr: an SDR BT.709 output at the input's bit depth; at strength 0 its pictures are the
    tone-mapped input's in BT.709 primaries, within the encoder's error (measured, 8-bit levels:
    mean 2.0 PQ / 1.7 HLG, max 34 / 30; 4:2:0 alone, without x264: mean 0.8 / 0.7, max 24 / 19,
    the test pictures' saturated colours clipped to BT.709 make sharp chroma)."""
    clip = hdr_clip(tmp_path / "in.mkv", trc)
    out = tmp_path / "out.mkv"
    assert main([str(clip), str(style_image), str(out), "--strength", "0", "--sdr", "--crf", "0",
                 "--checkpoint", str(random_weights)]) == 0
    notes = [line for line in capsys.readouterr().err.splitlines() if "is HDR" in line]
    assert len(notes) == 1 and notes[0].endswith("written as SDR BT.709 (--sdr)")
    tags, got = decoded_rgb(out)
    assert (tags.matrix, tags.primaries, tags.trc) == (1, 1, 1) and not tags.hdr
    assert tags.pix_fmt == "yuv420p10le"
    _, seen = decoded_rgb(clip)                     # what the network saw: the SDR domain
    err = np.abs(got - bt709_from_sdr(seen.astype(np.uint8)))
    assert err.mean() < 2.5 and err.max() <= 40, (err.mean(), err.max())


def test_hdr_video_to_an_image_is_sdr_bt709(tmp_path, style_image, random_weights, capsys):
    clip = hdr_clip(tmp_path / "in.mkv", TRC_HLG)
    assert main([str(clip), str(style_image), str(tmp_path / "out.png"), "--strength", "0",
                 "--checkpoint", str(random_weights)]) == 0
    notes = [line for line in capsys.readouterr().err.splitlines() if "is HDR" in line]
    assert len(notes) == 1 and notes[0].endswith("written as SDR BT.709")
    want = bt709_from_sdr(decoded_rgb(clip)[1][0].astype(np.uint8)).astype(int)
    got = cv2.cvtColor(cv2.imread(str(tmp_path / "out.png")), cv2.COLOR_BGR2RGB).astype(int)
    assert np.array_equal(got, want)


def test_a_10_bit_sdr_clip_comes_back_10_bit_with_its_tags(tmp_path, style_image, random_weights, capsys):
    """10-bit SDR BT.709 (a camera's): written yuv420p10le with its tags; at strength 0, filters off,
    x264 --crf 0, the planes come back within 16 10-bit codes (measured: max 12, mean 1.7: the
    frames pass through 8-bit RGB, one 8-bit level is 4 codes, and chroma is resampled)."""
    bt709 = (1, 1, 1, 1)                                   # matrix, range (limited), primaries, transfer
    frames = [np.clip(smooth(i) // 256, 0, 255).astype(np.uint8) for i in range(3)]
    clip = make_clip(tmp_path / "in.mkv", n=3, pix_fmt="yuv420p10le", frames=frames, colour=bt709)
    out = tmp_path / "out.mkv"
    assert (
        main(
            [
                str(clip),
                str(style_image),
                str(out),
                "--strength",
                "0",
                "--crf",
                "0",
                "--checkpoint",
                str(random_weights),
                "--set",
                "temporal.pixel_smoothing=0",
                "--set",
                "temporal.chroma_sigma=0",
                "-q",
            ]
        )
        == 0
    )
    with av.open(str(out)) as c:
        cc = c.streams.video[0].codec_context
        assert cc.pix_fmt == "yuv420p10le"
        assert (int(cc.colorspace), int(cc.color_range), int(cc.color_primaries), int(cc.color_trc)) == bt709
    a, b = planes(clip), planes(out)
    err = np.abs(a - b)
    assert a.shape == b.shape and err.max() <= 16 and err.mean() < 3, (err.max(), err.mean())


@pytest.mark.parametrize("trc", [TRC_PQ, TRC_HLG])
def test_hdr_through_batch_segments_keeps_tags_depth_and_frames(tmp_path, style_image, random_weights, trc,
                                                               capsys):
    """``batch --segment-seconds``: each segment is its own encode and the join copies them; the
    joined file is still HDR, 10-bit, with the input's tags, one note, and within the same error."""
    clip = make_clip(tmp_path / "in.mkv", n=12, fps=4, gop=4, pix_fmt="yuv420p10le",
                     frames=[smooth(i) for i in range(12)], colour=HDR_TAGS[trc])
    out = tmp_path / "out"
    assert main(["batch", str(clip), "--style", str(style_image), "--out-dir", str(out), "--checkpoint",
                 str(random_weights), "--workers", "2", "--segment-seconds", "1", "--strength", "0",
                 "--crf", "0", "-q"]) == 0
    (result,) = list(out.iterdir())
    with av.open(str(result)) as c:
        cc = c.streams.video[0].codec_context
        assert cc.pix_fmt == "yuv420p10le"
        assert (int(cc.colorspace), int(cc.color_primaries), int(cc.color_trc)) == (9, 9, trc)
    a, b = planes(clip), planes(result)
    err = np.abs(a - b)
    assert a.shape == b.shape and err.max() <= 16 and err.mean() < 3, (err.max(), err.mean())
