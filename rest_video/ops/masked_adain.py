"""Masked AdaIN: statistics inside regions and a per-pixel choice of affine map (REST, section 4.2).

Each content pixel belongs to a region (a *slot*); each slot has its own AdaIN affine map
``x * scale_k + shift_k`` (from the content statistics inside the slot's content region and the style
statistics inside the matching style region). :func:`masked_affine` applies, at every pixel, the
maps blended by per-slot weights: one-hot weights give hard region borders, weights blurred by
:func:`feather_weights` soft ones. REST never changes the resolution, so the same full-resolution
weights serve every layer.

Pure tensor functions on ``(1, C, H, W)`` features and ``(K, H, W)`` masks / weights.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from rest_video.core.errors import ShapeError
from rest_video.ops.stats import EPS


def _check_masks(feat: Tensor, masks: Tensor, name: str) -> None:
    if feat.dim() != 4 or feat.shape[0] != 1:
        raise ShapeError(f"features must be (1, C, H, W), got shape {tuple(feat.shape)}")
    if masks.dim() != 3 or tuple(masks.shape[1:]) != tuple(feat.shape[2:]):
        raise ShapeError(f"{name} must be (K, {feat.shape[2]}, {feat.shape[3]}), got shape {tuple(masks.shape)}")


def region_mean_std(feat: Tensor, mask: Tensor, eps: float = EPS) -> tuple[Tensor, Tensor]:
    """Per-channel mean and std of ``feat`` ``(1, C, H, W)`` over the pixels where ``mask`` ``(H, W)``
    (bool) is set; each ``(1, C, 1, 1)`` float32, as :func:`~rest_video.ops.stats.mean_std` computes
    them over the whole map.

    >>> f = torch.arange(8.).view(1, 1, 2, 4); m = torch.tensor([[1, 1, 0, 0], [1, 1, 0, 0]]).bool()
    >>> region_mean_std(f, m)[0].flatten().tolist()
    [2.5]
    """
    _check_masks(feat, mask[None], "mask")
    f = feat.float().flatten(2)[:, :, mask.flatten()]
    if f.shape[2] == 0:
        raise ShapeError("the region is empty")
    var, mean = torch.var_mean(f, dim=2, unbiased=False)
    return mean[..., None, None], (var + eps).sqrt()[..., None, None]


def feather_weights(weights: Tensor, px: float) -> Tensor:
    """``(K, H, W)`` region weights (one-hot) blurred so borders blend over about ``px`` pixels
    (a Gaussian of standard deviation ``px / 2``, replicated at the image border), then normalised
    to sum to 1 at every pixel. ``px <= 0`` returns ``weights`` as they are.

    >>> w = torch.zeros(2, 1, 9); w[0, :, :4] = 1; w[1, :, 4:] = 1
    >>> [round(v, 2) for v in feather_weights(w, 2)[0, 0].tolist()]
    [1.0, 1.0, 0.94, 0.7, 0.3, 0.06, 0.0, 0.0, 0.0]
    """
    if weights.dim() != 3:
        raise ShapeError(f"weights must be (K, H, W), got shape {tuple(weights.shape)}")
    if px <= 0:
        return weights
    sigma = px / 2.0
    r = max(1, math.ceil(3 * sigma))
    x = torch.arange(-r, r + 1, device=weights.device, dtype=torch.float32)
    k = torch.exp(-0.5 * (x / sigma) ** 2)
    k = k / k.sum()
    t = weights.float()[:, None]
    t = F.conv2d(F.pad(t, (r, r, 0, 0), mode="replicate"), k.view(1, 1, 1, -1))
    t = F.conv2d(F.pad(t, (0, 0, r, r), mode="replicate"), k.view(1, 1, -1, 1))
    t = t[:, 0]
    return t / t.sum(0, keepdim=True).clamp_min(1e-12)


def masked_affine(feat: Tensor, weights: Tensor, scales: list[Tensor], shifts: list[Tensor]) -> Tensor:
    """``sum_k weights[k] * (feat * scales[k] + shifts[k])`` per pixel.

    Args:
        feat: ``(1, C, H, W)`` features.
        weights: ``(K, H, W)`` slot weights, summing to 1 at each pixel (one-hot: hard regions).
        scales, shifts: K ``(1, C, 1, 1)`` affine maps (:func:`~rest_video.ops.stats.adain_affine`).

    Returns:
        ``(1, C, H, W)`` in ``feat``'s dtype.
    """
    _check_masks(feat, weights, "weights")
    if len(scales) != weights.shape[0] or len(shifts) != weights.shape[0]:
        raise ShapeError(f"{weights.shape[0]} weight maps but {len(scales)} scales and {len(shifts)} shifts")
    w = weights.float()
    S = torch.stack([s.float().flatten() for s in scales])  # (K, C)
    B = torch.stack([b.float().flatten() for b in shifts])
    scale = torch.einsum("khw,kc->chw", w, S)[None]
    shift = torch.einsum("khw,kc->chw", w, B)[None]
    return (feat.float() * scale + shift).to(feat.dtype)
