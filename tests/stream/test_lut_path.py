"""The LUT path (LutStylizer), with a stand-in network that is a known colour grade."""

import time

import numpy as np
import pytest
from stand_ins import GradeStylizer, SharpenStylizer, frame, textured

from rest_video.stream.lut import LutStylizer


def psnr(a, b):
    from rest_video.metrics import psnr as stream_psnr

    return stream_psnr([a], [b])


def test_lut_path_reproduces_the_network_and_refits_on_schedule():
    st = GradeStylizer()
    lp = LutStylizer(st, 1.0, 1.0, lut_size=17, refit_every=4, fit_side=48, background=False)
    outs = [lp(frame(i)) for i in range(9)]
    assert lp.refits == 3                                   # frame 0, then every 4 frames
    assert all(shape[:2] == (36, 48) for shape in st.calls) # fits run on the downscaled frame
    assert psnr(outs[-1], st.stylize(frame(8), 1.0)) > 33
    lp.set_strength(0.0)                                    # a change refits at the next frame
    out = lp(frame(9))
    assert lp.refits == 4 and psnr(out, frame(9)) > 40


def test_lut_path_refits_at_once_on_a_scene_cut():
    st = GradeStylizer()
    lp = LutStylizer(st, 1.0, 1.0, lut_size=9, refit_every=100, fit_side=32, background=False)
    lp(frame(0))
    lp(frame(1))
    assert lp.refits == 1
    lp(255 - frame(2))                                      # a very different picture
    assert lp.refits == 2 and lp.cuts == 1


def test_lut_path_background_refits_do_not_block_frames():
    st = GradeStylizer(delay=0.05)
    lp = LutStylizer(st, 1.0, 1.0, lut_size=9, refit_every=2, fit_side=64, background=True, smoothing=0.9)
    try:
        lp(frame(0))                                        # the first fit is synchronous
        t0 = time.perf_counter()
        for i in range(1, 11):
            lp(frame(i))
        per_frame = (time.perf_counter() - t0) / 10
        assert per_frame < 0.05                             # frames never waited for a refit
        lp.wait_idle()
        assert 2 <= lp.refits <= 6
        assert st.filters[-1] is lp.smoother
        # each fit weighs the past by 0.9 per frame since the last one (a replaced request's too)
        frames = [round(np.log(w) / np.log(0.9)) for w in st.weights]
        assert all(w == pytest.approx(0.9 ** k) for w, k in zip(st.weights, frames, strict=False))
        assert all(k >= 1 for k in frames) and sum(frames) <= 11
    finally:
        lp.close()


def test_the_statistics_filter_follows_frames_not_fits():
    """A fit n frames after the last weighs the past by smoothing ** n, so the LUT's statistics move
    as the full path's do whether it refits every 15 frames or every 3 (a fade's drift refits)."""
    st = GradeStylizer()
    lp = LutStylizer(st, 1.0, 1.0, lut_size=9, refit_every=3, fit_side=64, background=False, smoothing=0.9)
    for i in range(7):
        lp(frame(i))
    assert st.weights == pytest.approx([0.9, 0.9 ** 3, 0.9 ** 3])   # fits at frames 0, 3 and 6


def test_the_detail_term_holds_the_local_contrast_a_table_cannot():
    st = SharpenStylizer()
    scores = {}
    for detail in (False, True):
        lp = LutStylizer(st, 1.0, 1.0, lut_size=17, refit_every=100, fit_side=48, background=False,
                         detail=detail)
        outs = [lp(textured(i)) for i in range(3)]
        scores[detail] = psnr(outs[-1], st.stylize(textured(2), 1.0))
        assert (lp.gains is not None) == detail
    assert scores[True] > scores[False] + 2, scores      # fitted at half size, applied at full


def test_the_detail_gains_crossfade_with_the_table():
    st = SharpenStylizer()
    lp = LutStylizer(st, 1.0, 1.0, lut_size=9, refit_every=100, fit_side=48, background=False,
                     detail=True, fade=2)
    lp(textured(0))
    first = lp.gains.copy()
    lp.set_strength(0.0)                                     # the next fit: no added contrast
    lp(textured(1))
    assert lp.refits == 2
    np.testing.assert_allclose(lp.gains, first / 2, atol=0.02)   # half-way through a 2-frame fade
    lp(textured(2))
    assert np.abs(lp.gains).max() < 0.02                     # strength 0: the identity, no term
