"""Frames between the host and the device: RGB uint8 arrays <-> float tensors in [0, 1].

The one place of the uint8 -> float conversion and the float -> uint8
rounding (round half to even, saturated): the :class:`~rest_video.engine.stylizer.Stylizer` and the
CUDA runner both use these.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from rest_video.ops.color import to_uint8
from rest_video.ops.frames import check_frames, unit_float

__all__ = ["check_frames", "frames_to_tensor", "hwc_to_tensor", "round_to_uint8", "tensor_to_uint8",
           "unit_float"]


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
