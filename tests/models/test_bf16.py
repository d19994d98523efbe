"""The bf16 inference form keeps its accuracy contract against fp32 (rest_video.engine.precision.CONTRACT).

Three ways bf16 runs: the generic backend (F.pad + conv; CUDA's path, and the CPU's without native
bf16), the in-place oneDNN backend with the real oneDNN kernels (only on CPUs with native bf16: AMX /
AVX512-bf16; skipped elsewhere), and the same in-place backend with the fused oneDNN call emulated by
F.conv2d, which runs everywhere and tests the backend's own bf16 code (buffers, border fix, skip
folding) on this machine.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from media import make_frame

import rest_video.models.backends as backends
import rest_video.models.inference as inf
from rest_video.engine.precision import CONTRACT, meets_contract
from rest_video.engine.tensors import frames_to_tensor, tensor_to_uint8
from rest_video.metrics import psnr
from rest_video.models.build import build_inference
from rest_video.models.inference import RESTInference

BF16 = CONTRACT["bf16"]
NATIVE = backends.mkldnn_bf16_available()
pytestmark = pytest.mark.usefixtures("one_thread")


def _emulated_fused_conv_add_(dst, x, w, bias, unary):
    """What oneDNN's fused call computes, with torch's own conv (runs on any CPU)."""
    dst.add_(F.conv2d(x, w, bias, padding=1))
    if unary == "relu":
        dst.relu_()


def _net(model, way: str, monkeypatch):
    if way == "generic":
        return build_inference(model, "cpu", torch.bfloat16, backend="generic")
    monkeypatch.setattr(inf, "MIN_PIXELS_IN_PLACE", 0)  # the in-place convs at every test size
    if way == "mkldnn":
        if not NATIVE:
            pytest.skip("no native bf16 on this CPU (AMX / AVX512-bf16): oneDNN refuses the fused bf16 conv")
        return build_inference(model, "cpu", torch.bfloat16, backend="mkldnn")
    monkeypatch.setattr(backends, "fused_conv_add_", _emulated_fused_conv_add_)
    return RESTInference(model, torch.device("cpu"), torch.bfloat16, "mkldnn")


def _frames(w: int, h: int, n: int = 2) -> np.ndarray:
    return np.stack([make_frame(w, h, 3 + 5 * i) for i in range(n)])


def _run(net, frames: np.ndarray, style, **kw) -> np.ndarray:
    with torch.inference_mode():
        x = frames_to_tensor(frames, torch.device("cpu"), net.dtype)
        return tensor_to_uint8(net(x, style, **kw).clamp_(0, 1))


@pytest.mark.parametrize("way", ["generic", "mkldnn-emulated", "mkldnn"])
@pytest.mark.parametrize("hw", [(45, 61), (72, 128), (7, 3)])
@pytest.mark.parametrize("strength", [0.0, 0.6, 1.0])
def test_bf16_keeps_the_contract(model, style, monkeypatch, way, hw, strength):
    """Odd sizes, strengths 0 / 0.6 / 1, a batch of two: PSNR and largest difference against fp32."""
    fp32 = build_inference(model, "cpu", torch.float32)
    net = _net(model, way, monkeypatch)
    assert net.dtype == torch.bfloat16
    frames = _frames(hw[1], hw[0])
    ref = _run(fp32, frames, style, strength=strength)
    out = _run(net, frames, style, strength=strength)
    assert out.shape == ref.shape == frames.shape
    db = psnr([out], [ref])
    diff = int(np.abs(out.astype(np.int16) - ref).max())
    assert db >= BF16.min_psnr_db and diff <= BF16.max_diff, (db, diff)
    assert meets_contract("bf16", db, diff)


@pytest.mark.parametrize("way", ["generic", "mkldnn-emulated", "mkldnn"])
def test_bf16_against_the_unfolded_model(model, style, monkeypatch, way):
    """bf16 folded against the eager fp32 module itself (the training form), stats filter included."""
    net = _net(model, way, monkeypatch)
    frames = _frames(53, 37, 1)
    filt = lambda s: {layer: (m * 0.97, v * 1.02) for layer, (m, v) in s.items()}  # noqa: E731
    with torch.inference_mode():
        x = frames_to_tensor(frames, torch.device("cpu"), torch.float32)
        ref = tensor_to_uint8(model(x.float(), style, 0.8, stats_filter=filt).clamp_(0, 1))
    out = _run(net, frames, style, strength=0.8, stats_filter=filt)
    db = psnr([out], [ref])
    assert meets_contract("bf16", db, int(np.abs(out.astype(np.int16) - ref).max())), db


def test_bf16_is_not_fp32(model, style, monkeypatch):
    """The bf16 form really computes in bf16 (the test above would pass trivially otherwise)."""
    net = _net(model, "mkldnn-emulated", monkeypatch)
    frames = _frames(40, 30, 1)
    with torch.inference_mode():
        x = frames_to_tensor(frames, torch.device("cpu"), torch.bfloat16)
        y = net(x, style)
        ref = build_inference(model, "cpu", torch.float32)(x.float(), style)
    assert y.dtype == torch.bfloat16 and x.dtype == torch.bfloat16
    assert 0 < float((y.float() - ref).abs().max()) < 0.05


def test_mkldnn_bf16_needs_native_bf16(model):
    if NATIVE:
        assert build_inference(model, "cpu", torch.bfloat16).backend == "mkldnn"
    else:
        from rest_video.core.errors import ConfigError

        assert build_inference(model, "cpu", torch.bfloat16).backend == "generic"
        with pytest.raises(ConfigError, match="native bf16"):
            build_inference(model, "cpu", torch.bfloat16, backend="mkldnn")
