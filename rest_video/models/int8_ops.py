"""The int8 primitives of :mod:`rest_video.models.int8`: whether this CPU runs oneDNN's int8 convs
exactly, weight quantization, the scale grid, exact Gram moments of uint8 codes, and the
replication-padded int8 conv."""

from __future__ import annotations

import math
from functools import lru_cache

import torch
import torch.nn.functional as F
from torch import Tensor

from rest_video.models.threads import num_threads

__all__ = ["MOMENT_BLOCK", "QConv", "SCALE_STEPS", "code_moments", "int8_available", "qconv", "qconv_padded",
           "quantize_weights", "snap_scale"]

_CL = torch.channels_last
_ONE = [1, 1]
SCALE_STEPS = 8
"""Scales are rounded up to a grid of 2**(1/SCALE_STEPS) (9 %): two runs of the same frames that
began at different frames (a segment of a file and the whole file) choose the same scales within a
few frames, and from then on compute the same bits."""


def snap_scale(s: float) -> float:
    """``s`` rounded up to the scale grid (:data:`SCALE_STEPS` steps per power of two)."""
    if not s > 0 or not math.isfinite(s):
        return s
    k = math.ceil(math.log2(s) * SCALE_STEPS - 1e-9)
    return 2.0 ** (k / SCALE_STEPS)


@lru_cache(maxsize=1)
def int8_available() -> bool:
    """True when this torch has oneDNN's quantized conv and int8 GEMM and this CPU runs them exactly
    at full range (checked once, by running them, not from the CPU's flags).

    Full range needs int8 dot products (VNNI / AMX-int8). Without them oneDNN adds pairs of u8 x s8
    products in int16 and saturates, and int8 is slower than fp32 anyway (BENCHMARKS.md, "CPU
    precision"), so there int8 is not offered."""
    try:
        q = torch.ops.onednn
        zp = torch.zeros(1, dtype=torch.int64)
        x = torch.full((1, 16, 3, 3), 255, dtype=torch.uint8).contiguous(memory_format=_CL)
        w = torch.full((1, 16, 3, 3), 127, dtype=torch.int8)
        ws = torch.ones(1)
        pk = q.qconv_prepack(w, ws, 1.0, 0, _ONE, _ONE, _ONE, 1, None)
        y = q.qconv2d_pointwise(x, 1.0, 0, pk, ws, zp, None, _ONE, _ONE, _ONE, 1, 1.0, 0, torch.float32,
                                "none", [], "")
        # zero padding: the centre sums 9 pixels, a corner 4, of 16 channels x 255 x 127
        conv_ok = float(y[0, 0, 1, 1]) == 9 * 16 * 255 * 127 and float(y[0, 0, 0, 0]) == 4 * 16 * 255 * 127
        a = torch.full((16, 64), -128, dtype=torch.int8)
        gemm_ok = int(torch._int_mm(a, a.t().contiguous())[0, 0]) == 64 * 128 * 128
        return conv_ok and gemm_ok
    except (AttributeError, RuntimeError):
        return False


def quantize_weights(w: Tensor) -> tuple[Tensor, Tensor]:
    """``(int8 weights, fp32 per-output-channel scales)`` of fp32/fp64 ``w`` ``(O, I, kh, kw)``:
    symmetric, the largest magnitude of each output channel at 127, rounded so that each kernel
    keeps its sum.

    Plain rounding to nearest leaves each kernel's taps off by up to half a step each, and those
    errors add up on smooth content (a conv of a flat patch sees only the sum of its kernel): on
    real photos the first conv's rounding alone cost 8 dB. So per kernel (one output and one input
    channel) the taps whose rounding left the most behind are rounded the other way until the
    kernel's sum is within half a step of the exact one (each tap stays within one step)."""
    scale = (w.abs().amax(dim=(1, 2, 3)).double().clamp_min(1e-30) / 127.0)
    v = w.double() / scale[:, None, None, None]
    n_out, n_in = v.shape[:2]
    v = v.reshape(n_out, n_in, -1)
    q = v.round()
    e = v - q                                  # each in [-0.5, 0.5]
    n = e.sum(-1, keepdim=True).round()        # whole steps the kernel's sum is off by
    up = torch.argsort(torch.argsort(e, -1, descending=True), -1)  # rank of each tap by residual
    down = torch.argsort(torch.argsort(e, -1), -1)
    q += (up < n).double() - (down < -n).double()
    q = q.clamp_(-127, 127).reshape(w.shape).to(torch.int8)
    return q, scale.float()


MOMENT_BLOCK = 1 << 16
"""Pixels per integer Gram product: 65536 x 128 x 128 = 2**30 stays within int32."""


def code_moments(R: Tensor) -> tuple[Tensor, Tensor]:
    """Exact Gram matrix ``(C, C)`` and column sums ``(C,)`` (fp64) of uint8 codes ``R`` ``(N, C)``.

    The codes are shifted to int8 (``v - 128``: one xor) so that oneDNN's int8 GEMM
    (``torch._int_mm``, int32 sums) computes the products over blocks of :data:`MOMENT_BLOCK`
    pixels; the blocks add up in int64 and the shift is undone exactly:
    ``G = G' + 128 (S' 1^T + 1 S'^T) + 128^2 N``, ``S = S' + 128 N``. (The fp32 form's block
    products of the same values round; these do not, and take a third of the time.)"""
    N, C = R.shape
    X = torch.bitwise_xor(R, 128).view(torch.int8)
    G = torch.zeros(C, C, dtype=torch.int64, device=R.device)
    S = torch.zeros(C, dtype=torch.int64, device=R.device)
    ones = torch.ones(1, min(N, MOMENT_BLOCK), dtype=torch.int8, device=R.device)
    for i in range(0, N, MOMENT_BLOCK):
        xb = X[i:i + MOMENT_BLOCK]
        G += torch._int_mm(xb.t(), xb)
        S += torch._int_mm(ones[:, :xb.shape[0]], xb)[0]
    G = G + 128 * (S[:, None] + S[None, :]) + 128 * 128 * N
    S = S + 128 * N
    return G.double(), S.double()


class QConv:
    """One prepacked int8 conv: its fp32 bias, int8 weights (packed) and their scales."""

    __slots__ = ("b", "pk", "ws", "zp")

    def __init__(self, w: Tensor, b: Tensor) -> None:
        self.b = b.float().contiguous()
        qw, self.ws = quantize_weights(w)
        self.pk = torch.ops.onednn.qconv_prepack(qw, self.ws, 1.0, 0, _ONE, _ONE, _ONE, 1, None)
        self.zp = torch.zeros(w.shape[0], dtype=torch.int64)


def qconv_padded(xq: Tensor, conv: QConv, wscale: Tensor, out_scale: float, out_dtype, attr: str,
                 threads: int) -> Tensor:
    """The int8 conv of ``xq`` with replication padding: oneDNN's conv pads with zeros, so the
    1-pixel border is then recomputed by the same int8 conv on replication-padded strips
    (top and bottom rows, left and right columns: two small convs)."""
    with num_threads(threads):
        y = qconv(xq, conv, wscale, out_scale, out_dtype, attr)
    H, W = y.shape[-2:]
    h2, w2 = min(2, H), min(2, W)
    # rows: strips of (up to) 2 rows, padded by replication; with the conv's own zero padding
    # on top, output rows 1 .. h2 and columns 1 .. W of a strip are exact
    rows = torch.cat([xq[:, :, :h2], xq[:, :, H - h2:]], 0)
    r = qconv(F.pad(rows, (1, 1, 1, 1), mode="replicate"), conv, wscale, out_scale, out_dtype, attr)
    y[:, :, :1] = r[:1, :, 1:2, 1:W + 1]
    y[:, :, H - 1:] = r[1:, :, h2:h2 + 1, 1:W + 1]
    cols = torch.cat([xq[..., :w2], xq[..., W - w2:]], 0)
    c = qconv(F.pad(cols, (1, 1, 1, 1), mode="replicate"), conv, wscale, out_scale, out_dtype, attr)
    y[..., :1] = c[:1, :, 1:H + 1, 1:2]
    y[..., W - 1:] = c[1:, :, 1:H + 1, w2:w2 + 1]
    return y


def qconv(xq: Tensor, conv: QConv, wscale: Tensor, out_scale: float, out_dtype, attr: str) -> Tensor:
    """oneDNN's int8 conv of uint8 ``xq`` (zero padding): codes of ``out_scale``, or ``out_dtype``."""
    return torch.ops.onednn.qconv2d_pointwise(
        xq, 1.0, 0, conv.pk, wscale, conv.zp, conv.b, _ONE, _ONE, _ONE, 1,
        float(out_scale), 0, out_dtype, attr, [], "")
