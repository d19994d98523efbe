"""The two ways the inference form runs a 3x3 replication-padded conv (+ ReLU).

- :func:`conv_generic`: ``F.pad(replicate)`` + ``F.conv2d`` on any device / dtype.
- :func:`conv_mkldnn` (CPU fp32, and bf16 where oneDNN has native bf16 kernels: AMX or
  AVX512-bf16, see :func:`mkldnn_bf16_available`): oneDNN convs with implicit zero padding,
  accumulated in place into a reused buffer (``add`` post-op, ReLU fused), then only the 1-pixel
  border recomputed from replication-padded strips (:func:`fix_border`). It calls oneDNN through torch's
  ``torch.ops.mkldnn._convolution_pointwise_`` op (the only in-place fused conv torch offers;
  :func:`mkldnn_available` checks that this torch has it, else the generic backend is used).
"""

from __future__ import annotations

from functools import lru_cache

import torch
import torch.nn.functional as F
from torch import Tensor

from rest_video.models.threads import num_threads

_ONE = [1, 1]
MIN_PIXELS_IN_PLACE = 1 << 14
"""Frames with fewer pixels run :func:`conv_generic` even where oneDNN is available: the border
fix has a fixed cost per frame (measured faster up to about 128x96, BENCHMARKS.md)."""


def mkldnn_available() -> bool:
    """True when torch has oneDNN and its in-place fused pointwise conv."""
    try:
        return (bool(torch.backends.mkldnn.is_available())
                and hasattr(torch.ops.mkldnn, "_convolution_pointwise_"))
    except (AttributeError, RuntimeError):
        return False


@lru_cache(maxsize=1)
def mkldnn_bf16_available() -> bool:
    """True when oneDNN runs bf16 convs natively on this CPU (AMX, AVX512-bf16 / AVX512-BW-VL-DQ or
    AVX-NE-CONVERT, torch's own check: without them torch refuses the fused bf16 conv) and the fused
    in-place call computes what the backend expects on a tiny bf16 input (checked once)."""
    try:
        if not (mkldnn_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported()):
            return False
        x = torch.ones(1, 4, 3, 3, dtype=torch.bfloat16).contiguous(memory_format=torch.channels_last)
        w = torch.ones(4, 4, 3, 3, dtype=torch.bfloat16)
        dst = torch.full_like(x, -100.0)  # the add post-op adds it: 36 - 100 < 0 -> relu -> 0
        torch.ops.mkldnn._convolution_pointwise_.binary(dst, x, w, torch.ones(4, dtype=torch.bfloat16),
                                                        _ONE, _ONE, _ONE, 1, "add", None, "relu", [], None)
        dst2 = torch.zeros_like(x)
        torch.ops.mkldnn._convolution_pointwise_.binary(dst2, x, w, None, _ONE, _ONE, _ONE, 1, "add", None,
                                                        None, [], None)
        # zero padding: the centre sees 9 pixels x 4 channels, a corner 4 x 4
        return (float(dst.abs().max()) == 0.0 and float(dst2[0, 0, 1, 1]) == 36.0
                and float(dst2[0, 3, 0, 0]) == 16.0)
    except (AttributeError, RuntimeError):
        return False


def mkldnn_supports(dtype: torch.dtype) -> bool:
    """True when the in-place oneDNN backend runs ``dtype`` on this CPU (fp32; bf16 natively)."""
    if dtype == torch.float32:
        return mkldnn_available()
    if dtype == torch.bfloat16:
        return mkldnn_bf16_available()
    return False


def default_backend(device: torch.device | str, dtype: torch.dtype) -> str:
    """``"mkldnn"`` for fp32 on a CPU with oneDNN, and for bf16 where oneDNN runs it natively;
    else ``"generic"``."""
    device = torch.device(device)
    if device.type == "cpu" and mkldnn_supports(dtype):
        return "mkldnn"
    return "generic"


def conv_generic(inputs: list[tuple[Tensor, Tensor]], bias: Tensor, relu: bool, dst: Tensor | None) -> Tensor:
    """3x3 conv with replication padding over the channel concatenation of ``inputs`` ``[(x, w)]``
    (+ ReLU), into ``dst`` when given."""
    if len(inputs) == 1:
        x, w = inputs[0]
    else:
        x = torch.cat([t for t, _ in inputs], 1)
        w = torch.cat([w for _, w in inputs], 1)
    y = F.conv2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), w, bias)
    if relu:
        y = F.relu(y, inplace=True)
    if dst is not None:
        dst.copy_(y)
        return dst
    return y


def conv_mkldnn(inputs: list[tuple[Tensor, Tensor]], bias: Tensor, relu: bool, dst: Tensor,
                 threads: int = 1) -> Tensor:
    """oneDNN conv(s) with implicit zero padding accumulated in place into ``dst`` (ReLU fused),
    then the 1-pixel border recomputed with replication padding.

    Called on one thread; only the convs themselves use ``threads``.
    """
    n = len(inputs)
    with num_threads(threads):
        dst.zero_()
        for j, (x, w) in enumerate(inputs):
            unary = "relu" if (relu and j == n - 1) else None
            fused_conv_add_(dst, x, w, bias if j == 0 else None, unary)
    fix_border(inputs, bias, relu, dst)
    return dst


def fused_conv_add_(dst: Tensor, x: Tensor, w: Tensor, bias: Tensor | None, unary: str | None) -> None:
    """``dst = unary(conv3x3(x, w, bias, zero padding 1) + dst)`` in place: one oneDNN call."""
    torch.ops.mkldnn._convolution_pointwise_.binary(dst, x, w, bias, _ONE, _ONE, _ONE, 1, "add", None, unary,
                                                    [], None)


def fix_border(inputs: list[tuple[Tensor, Tensor]], bias: Tensor, relu: bool, dst: Tensor) -> None:
    """Overwrite the outer ring of ``dst`` with the replication-padded conv result."""
    H, W = dst.shape[-2:]
    h2, w2 = min(2, H), min(2, W)
    xs = [x for x, _ in inputs]
    w = inputs[0][1] if len(inputs) == 1 else torch.cat([w for _, w in inputs], 1)
    cat = (lambda ts: ts[0]) if len(xs) == 1 else (lambda ts: torch.cat(ts, 1))  # noqa: E731
    B = dst.shape[0]
    # top and bottom rows: strips of (up to) 2 rows, stacked on the batch axis
    rows = torch.cat([cat([x[:, :, :h2] for x in xs]), cat([x[:, :, H - h2:] for x in xs])], 0)
    y = F.conv2d(F.pad(rows, (1, 1, 1, 1), mode="replicate"), w, bias)
    if relu:
        y = y.relu_()
    dst[:, :, :1] = y[:B, :, :1]
    dst[:, :, H - 1:] = y[B:, :, -1:]
    cols = torch.cat([cat([x[..., :w2] for x in xs]), cat([x[..., W - w2:] for x in xs])], 0)
    y = F.conv2d(F.pad(cols, (1, 1, 1, 1), mode="replicate"), w, bias)
    if relu:
        y = y.relu_()
    dst[..., :1] = y[:B, ..., :1]
    dst[..., W - 1:] = y[B:, ..., -1:]
