"""The int8 inference form (rest_video.models.int8) keeps its accuracy contract against fp32.

oneDNN's int8 convs run on any x86 CPU (VNNI / AMX-int8 only make them fast), so these tests run
the real kernels everywhere the CPU build of torch has them.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from media import make_frame

import rest_video.models.int8 as int8
from rest_video.engine.precision import CONTRACT, meets_contract
from rest_video.engine.tensors import frames_to_tensor, tensor_to_uint8
from rest_video.metrics import psnr
from rest_video.models.build import build_inference
from rest_video.models.int8 import Int8Inference, int8_available, quantize_weights

INT8 = CONTRACT["int8"]
pytestmark = [
    pytest.mark.skipif(
        not int8_available(), reason="no exact int8 here (VNNI / AMX-int8 and oneDNN's int8 ops)"
    ),
    pytest.mark.usefixtures("one_thread"),
]


@pytest.fixture(autouse=True)
def _int8_at_every_size(monkeypatch):
    monkeypatch.setattr(int8, "MIN_PIXELS_IN_PLACE", 0)  # the int8 path at every test size


def _frames(w: int, h: int, n: int = 2, start: int = 3) -> np.ndarray:
    return np.stack([make_frame(w, h, start + 5 * i) for i in range(n)])


def _run(net, frames: np.ndarray, style, **kw) -> np.ndarray:
    with torch.inference_mode():
        x = frames_to_tensor(frames, torch.device("cpu"), torch.float32)
        return tensor_to_uint8(net(x, style, **kw).clamp_(0, 1))


def _score(out: np.ndarray, ref: np.ndarray) -> tuple[float, int]:
    return psnr([out], [ref]), int(np.abs(out.astype(np.int16) - ref).max())


def test_quantize_weights_per_output_channel():
    w = torch.tensor([[1.0, -0.5], [0.01, 0.02]]).reshape(2, 2, 1, 1).expand(2, 2, 3, 3).contiguous()
    q, s = quantize_weights(w)
    assert q.dtype == torch.int8 and s.shape == (2,)
    assert int(q.abs().amax()) == 127 and int(q[0].amax()) == 127 and int(q[1].amax()) == 127
    assert torch.allclose(q.float() * s[:, None, None, None], w, rtol=0, atol=float(s.max()) + 1e-9)


def test_quantized_kernels_keep_their_sums():
    """Each 3x3 kernel's sum stays within half a step of the exact one (plain rounding: up to 4.5
    steps), and every tap within one step."""
    g = torch.Generator().manual_seed(0)
    w = torch.randn(16, 19, 3, 3, generator=g) * torch.rand(16, 1, 1, 1, generator=g)
    q, s = quantize_weights(w)
    v = w.double() / s.double()[:, None, None, None]
    assert float((q.double() - v).abs().max()) <= 1.0
    assert float((q.double().sum((2, 3)) - v.sum((2, 3))).abs().max()) <= 0.5 + 1e-9
    plain = v.round().clamp(-127, 127)
    assert float((plain.sum((2, 3)) - v.sum((2, 3))).abs().max()) > 0.5  # the test can tell them apart


@pytest.mark.parametrize("hw", [(45, 61), (72, 128), (7, 3)])
@pytest.mark.parametrize("strength", [0.0, 0.6, 1.0])
def test_int8_keeps_the_contract(model, style, hw, strength):
    """Odd sizes, strengths 0 / 0.6 / 1, a batch of two: PSNR and largest difference against fp32."""
    fp32 = build_inference(model, "cpu", torch.float32)
    net = build_inference(model, "cpu", precision="int8")
    assert isinstance(net, Int8Inference)
    frames = _frames(hw[1], hw[0])
    ref = _run(fp32, frames, style, strength=strength)
    out = _run(net, frames, style, strength=strength)
    assert out.shape == ref.shape == frames.shape
    db, diff = _score(out, ref)
    assert meets_contract("int8", db, diff), (db, diff)
    assert net._state.scales and net.fallbacks == 0, "the int8 path did not run"


@pytest.mark.parametrize("weights", ["rest_16x5", "rest_16x5.look"])
def test_int8_keeps_the_contract_on_real_photos(weights):
    """The contract as stated: real photos (the shipped style photos, each stylized with the next),
    run one after another through one network as a video's frames are (a scene cut each time),
    with both shipped sets of weights."""
    import cv2

    from rest_video.io.image import read_image
    from rest_video.models import create_model
    from rest_video.resources import styles_dir

    model = create_model(weights)

    photos = [cv2.resize(read_image(p, 512), (160, 112), interpolation=cv2.INTER_AREA)
              for p in sorted(styles_dir().glob("*.jpg"))]
    assert len(photos) >= 3
    fp32 = build_inference(model, "cpu", torch.float32)
    net = build_inference(model, "cpu", precision="int8")
    for i, img in enumerate(photos):
        other = photos[(i + 1) % len(photos)]
        st = model.style_stats(frames_to_tensor(other[None], torch.device("cpu"), torch.float32))
        db, diff = _score(_run(net, img[None], st), _run(fp32, img[None], st))
        assert meets_contract("int8", db, diff), (i, db, diff)
    assert net.fallbacks == 0


def test_int8_is_really_int8(model, style):
    """The contract test above would pass trivially on fp32: the int8 output differs from fp32's,
    and every stored activation is uint8 codes."""
    net = build_inference(model, "cpu", precision="int8")
    frames = _frames(64, 48, 1)
    with torch.inference_mode():
        x = frames_to_tensor(frames, torch.device("cpu"), torch.float32)
        y = net(x, style)
        ref = build_inference(model, "cpu", torch.float32)(x, style)
        codes = net._encode_q((x * 255).round().to(torch.uint8), 1)
    assert 0 < float((y - ref).abs().max()) < 0.05
    assert sorted(codes) == [3, 4, 5] and all(q.dtype == torch.uint8 and 0 < s for q, s in codes.values())
    assert net.fallbacks == 0


def test_int8_against_the_unfolded_model_with_a_stats_filter(model, style):
    net = build_inference(model, "cpu", precision="int8")
    frames = _frames(53, 37, 1)
    seen = []

    def filt(s):
        seen.append(sorted(s))
        return {layer: (m * 0.97, v * 1.02) for layer, (m, v) in s.items()}
    with torch.inference_mode():
        x = frames_to_tensor(frames, torch.device("cpu"), torch.float32)
        ref = tensor_to_uint8(model(x, style, 0.8, stats_filter=filt).clamp_(0, 1))
    out = _run(net, frames, style, strength=0.8, stats_filter=filt)
    assert seen[-1] == [3, 4, 5]
    db, diff = _score(out, ref)
    assert meets_contract("int8", db, diff), (db, diff)


@pytest.mark.parametrize("start_scale", [1e-6, 1e3])
def test_scales_never_clip_and_find_the_range(model, style, start_scale):
    """Scales far too small (everything would clip to 255) or far too large (everything rounds to a
    few codes) are corrected by rerunning the conv: the output keeps the contract."""
    fp32 = build_inference(model, "cpu", torch.float32)
    net = build_inference(model, "cpu", precision="int8")
    frames = _frames(61, 45, 1)
    _run(net, frames, style)
    net._state.scales = {k: start_scale for k in net._state.scales}
    before = net.reruns
    out = _run(net, frames, style)
    assert net.reruns > before
    db, diff = _score(out, _run(fp32, frames, style))
    assert meets_contract("int8", db, diff), (db, diff)


def test_scales_follow_the_frames(model, style):
    """A frame like the one before runs without reruns; reset_scales forgets the stream."""
    net = build_inference(model, "cpu", precision="int8")
    frames = _frames(61, 45, 1)
    _run(net, frames, style)
    n = net.reruns
    _run(net, frames, style)
    assert net.reruns == n
    net.reset_scales()
    _run(net, frames, style)
    assert net.reruns > n


def test_wct_and_masks_run_the_fp32_form(model, style, monkeypatch):
    """What int8 does not cover runs the fp32 folded form: the same output as fp32."""
    fp32 = build_inference(model, "cpu", torch.float32)
    net = build_inference(model, "cpu", precision="int8")
    frames = _frames(40, 30, 1)
    wct_style = model.style_stats(frames_to_tensor(make_frame(48, 40, 9)[None], torch.device("cpu"),
                                                   torch.float32), with_cov=True)
    assert np.array_equal(
        _run(net, frames, wct_style, method="wct"), _run(fp32, frames, wct_style, method="wct")
    )
    monkeypatch.setattr(int8, "MIN_PIXELS_IN_PLACE", 10_000)  # small frames: fp32 form
    assert np.array_equal(_run(net, frames, style), _run(fp32, frames, style))
    assert not net._state.scales


def test_int8_needs_the_cpu(model):
    from rest_video.core.errors import ConfigError

    with pytest.raises(ConfigError, match="CPU"):
        build_inference(model, torch.device("meta"), precision="int8")
    with pytest.raises(ConfigError, match="unknown precision"):
        build_inference(model, "cpu", precision="int4")


def test_uint8_frames_go_in_as_they_are(model, style, monkeypatch):
    """uint8 frames (what the Stylizer hands the int8 form) give the same output as the [0, 1]
    float frames, on the int8 path and on the fp32 form it falls back to (small frames, masks)."""
    frames = _frames(61, 45, 2)
    u8 = torch.from_numpy(frames).permute(0, 3, 1, 2)
    x = frames_to_tensor(frames, torch.device("cpu"), torch.float32)
    with torch.inference_mode():
        a = build_inference(model, "cpu", precision="int8")(u8, style)
        b = build_inference(model, "cpu", precision="int8")(x, style)
        assert torch.equal(a, b)
        monkeypatch.setattr(int8, "MIN_PIXELS_IN_PLACE", 10_000)
        c = build_inference(model, "cpu", precision="int8")(u8, style)
        assert torch.equal(c, build_inference(model, "cpu", torch.float32)(x, style))


@pytest.mark.parametrize("n", [1, 21, 70_001])
def test_code_moments_are_exact(n):
    """Gram matrix and sums of uint8 codes, exactly (odd counts, more than one block, extremes)."""
    from rest_video.models.int8 import code_moments

    g = torch.Generator().manual_seed(n)
    R = torch.randint(0, 256, (n, 16), generator=g, dtype=torch.uint8)
    R[0] = 255
    if n > 1:
        R[1] = 0
    G, S = code_moments(R)
    X = R.double()
    assert torch.equal(G, X.T @ X) and torch.equal(S, X.sum(0))
    full = torch.full((70_000, 16), 255, dtype=torch.uint8)  # the int32 bound of a block, at its worst
    assert torch.equal(code_moments(full)[0], torch.full((16, 16), 70_000 * 255.0 ** 2, dtype=torch.float64))


def test_a_segment_joins_the_whole_run_within_a_few_frames(model, style):
    """Scales snapped to a grid: a run that starts later over the same frames (a segment after its
    warm-up) soon computes the same bits as the run from the start, and keeps to them."""
    from rest_video.models.int8 import snap_scale

    assert snap_scale(0.1) == snap_scale(0.1 * 1.001) or snap_scale(0.1 * 0.999) == snap_scale(0.1)
    assert snap_scale(0.1) >= 0.1 and snap_scale(0.1) < 0.1 * 2 ** (1 / 8) + 1e-12
    frames = _frames(96, 72, 14, start=0)

    def run(fs):
        net = build_inference(model, "cpu", precision="int8")
        return [_run(net, f[None], style)[0] for f in fs]
    whole = run(frames)
    part = run(frames[4:])
    same = [np.array_equal(a, b) for a, b in zip(whole[4:], part, strict=False)]
    assert True in same and all(same[same.index(True):]) and same.index(True) <= 3, same


def test_the_stylizer_hands_read_only_frames_over_without_a_warning(random_weights, recwarn, monkeypatch):
    import warnings

    from rest_video import Stylizer, load_pipeline

    real = torch.from_numpy

    def from_numpy(a):  # torch warns once per process; here every time, so the test does not hang on order
        if not a.flags.writeable:
            warnings.warn(
                "The given NumPy array is not writable, and PyTorch does not support ...", UserWarning,
                stacklevel=2,
            )
        return real(a)

    monkeypatch.setattr(torch, "from_numpy", from_numpy)

    st = Stylizer(load_pipeline(None, {"model.checkpoint": str(random_weights), "runtime.device": "cpu",
                                       "runtime.precision": "int8"}))
    assert st.precision == "int8"
    frame = make_frame(160, 120, 2)
    frame.flags.writeable = False
    out = st.stylize(frame, st.load_style(make_frame(40, 30, 7), use_cache=False))
    assert out.shape == frame.shape
    assert not [w for w in recwarn if "not writable" in str(w.message)]


def test_nearly_flat_frames_run_in_fp32(model, style, caplog):
    """A frame whose features the codes cannot resolve (a photo at 2 % of its brightness, as in a
    fade to black; a flat grey card) runs in fp32: AdaIN would amplify the rounding (17 levels off
    measured). A normal photo stays int8."""
    import cv2

    from rest_video.io.image import read_image
    from rest_video.resources import styles_dir

    photo = cv2.resize(
        read_image(styles_dir() / "evening-glow.jpg", 512), (160, 112), interpolation=cv2.INTER_AREA
    )
    fp32 = build_inference(model, "cpu", torch.float32)
    net = build_inference(model, "cpu", precision="int8")
    import logging

    with caplog.at_level(logging.DEBUG, logger="rest_video"):
        for frame in ((photo.astype(np.float32) * 0.02).astype(np.uint8), np.full_like(photo, 128)):
            assert np.array_equal(_run(net, frame[None], style), _run(fp32, frame[None], style))
    assert net.fallbacks == 2
    assert caplog.text.count("nearly flat frame") == 1  # said once, with -v
    out = _run(net, photo[None], style)
    assert net.fallbacks == 2 and not np.array_equal(out, _run(fp32, photo[None], style))
