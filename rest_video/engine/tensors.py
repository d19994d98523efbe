"""Frames between the host and the device: RGB uint8 arrays <-> float tensors in [0, 1].

The one place of the input dtype rule, the uint8 -> float conversion and the float -> uint8
rounding (round half to even, saturated): the :class:`~rest_video.engine.stylizer.Stylizer` and the
CUDA runner both use these.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from rest_video.core.errors import ShapeError
from rest_video.ops.color import to_uint8


def input_dtype(dtype: torch.dtype, optimized: bool) -> torch.dtype:
    """The dtype frames enter the network in: the run's precision for the inference form
    (``optimized``), float32 for the plain module (it has no reduced-precision path)."""
    return dtype if optimized else torch.float32


def check_frames(batch: np.ndarray) -> np.ndarray:
    """``batch`` when it is uint8 ``(N, H, W, 3)``; otherwise a :class:`ShapeError`."""
    if batch.ndim != 4 or batch.shape[-1] != 3 or batch.dtype != np.uint8:
        raise ShapeError(f"frames must be uint8 (N, H, W, 3) RGB, got {batch.dtype} {tuple(batch.shape)}")
    return batch


def frames_to_tensor(batch: np.ndarray, device: torch.device, dtype: torch.dtype) -> Tensor:
    """``(N, H, W, 3)`` uint8 -> ``(N, 3, H, W)`` ``dtype`` in [0, 1] on ``device`` (channels-last memory)."""
    if device.type == "cpu":
        # one vectorised numpy pass: ~20x faster than torch's strided uint8 -> float permute; the
        # permuted view is channels-last, so a bf16 / fp16 copy of it is one contiguous pass
        x = batch.astype(np.float32)
        x *= np.float32(1.0 / 255.0)
        t = torch.from_numpy(x).permute(0, 3, 1, 2)
        return t if dtype == torch.float32 else t.to(dtype)
    t = torch.from_numpy(np.ascontiguousarray(batch)).to(device, non_blocking=True)
    return hwc_to_tensor(t, dtype)


def unit_float(x: Tensor) -> Tensor:
    """``x`` as float32 in [0, 1]: uint8 frames ``(N, 3, H, W)`` scaled with the same bits as
    :func:`frames_to_tensor`'s (one fp32 multiply by 1/255), any float tensor as float32."""
    if x.dtype == torch.uint8:
        return x.float().mul_(torch.tensor(1.0 / 255.0, dtype=torch.float32))
    return x.float()


def hwc_to_tensor(t: Tensor, dtype: torch.dtype) -> Tensor:
    """``(N, H, W, 3)`` uint8 tensor (on its device) -> ``(N, 3, H, W)`` ``dtype`` in [0, 1]."""
    return t.permute(0, 3, 1, 2).to(dtype).div_(255.0)


def round_to_uint8(y: Tensor) -> Tensor:
    """``(..., )`` float in [0, 1] on any device -> uint8 levels (x 255, round half to even,
    saturated), on the same device: the device side of :func:`tensor_to_uint8`."""
    return y.float().mul(255.0).round_().clamp_(0, 255).to(torch.uint8)


def tensor_to_uint8(y: Tensor) -> np.ndarray:
    """``(B, 3, H, W)`` float in [0, 1] -> ``(B, H, W, 3)`` uint8 on the host (rounded, saturated)."""
    if y.device.type == "cpu":
        # OpenCV scales, rounds and saturates in one pass (a channels-last tensor needs no copy;
        # bf16 / fp16 are widened to fp32 first, exactly, keeping the memory format)
        hwc = y.detach().float().permute(0, 2, 3, 1).contiguous().numpy()
        out = np.empty(hwc.shape, np.uint8)
        for i in range(hwc.shape[0]):
            to_uint8(hwc[i], 255.0, out[i])
        return out
    return round_to_uint8(y).permute(0, 2, 3, 1).contiguous().cpu().numpy()
