"""Frames as arrays and tensors: the uint8 frame check and the uint8 -> [0, 1] float scaling that
every form of the network shares (so an int8 frame that falls back to fp32 sees the same bits)."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from rest_video.core.errors import ShapeError


def check_frames(batch: np.ndarray) -> np.ndarray:
    """``batch`` when it is uint8 ``(N, H, W, 3)``; otherwise a :class:`ShapeError`.

    >>> check_frames(np.zeros((1, 2, 2, 3), np.uint8)).shape
    (1, 2, 2, 3)
    """
    if batch.ndim != 4 or batch.shape[-1] != 3 or batch.dtype != np.uint8:
        raise ShapeError(f"frames must be uint8 (N, H, W, 3) RGB, got {batch.dtype} {tuple(batch.shape)}")
    return batch


def unit_float(x: Tensor) -> Tensor:
    """``x`` as float32 in [0, 1]: uint8 frames ``(N, 3, H, W)`` scaled with the same bits as
    :func:`~rest_video.engine.tensors.frames_to_tensor`'s (one fp32 multiply by 1/255), any float
    tensor as float32.

    >>> unit_float(torch.tensor([0, 255], dtype=torch.uint8)).tolist()
    [0.0, 1.0]
    """
    if x.dtype == torch.uint8:
        return x.float().mul_(torch.tensor(1.0 / 255.0, dtype=torch.float32))
    return x.float()
