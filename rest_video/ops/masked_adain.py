"""Masked AdaIN: statistics inside regions and a per-pixel choice of affine map (REST, section 4.2).

Each content pixel belongs to a region (a *slot*); each slot has its own AdaIN affine map
``x * scale_k + shift_k`` (from the content statistics inside the slot's content region and the style
statistics inside the matching style region). :func:`masked_adain` gives every pixel the map of its
region's statistics, blended by per-slot weights (:func:`blend_affine`): one-hot weights give hard
region borders, weights blurred by :func:`feather_weights` soft ones. REST never changes the
resolution, so the same full-resolution weights serve every layer.

Pure tensor functions on ``(1, C, H, W)`` features and ``(K, H, W)`` masks / weights.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor

from rest_video.core.errors import ShapeError
from rest_video.ops.stats import EPS


class RegionMaps(NamedTuple):
    """What the per-pixel maps of one layer are built from: each slot's content and style means
    and stds, ``(K, C)`` float32, and the strength (the arguments of :func:`blend_affine`)."""

    c_mean: Tensor
    c_std: Tensor
    s_mean: Tensor
    s_std: Tensor
    strength: float


def _check_masks(feat: Tensor, masks: Tensor, name: str) -> None:
    if feat.dim() != 4 or feat.shape[0] != 1:
        raise ShapeError(f"features must be (1, C, H, W), got shape {tuple(feat.shape)}")
    if masks.dim() != 3 or tuple(masks.shape[1:]) != tuple(feat.shape[2:]):
        raise ShapeError(f"{name} must be (K, {feat.shape[2]}, {feat.shape[3]}), "
                         f"got shape {tuple(masks.shape)}")


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


def blend_affine(weights: Tensor, c_mean: Tensor, c_std: Tensor, s_mean: Tensor, s_std: Tensor,
                 strength: float = 1.0) -> tuple[Tensor, Tensor]:
    """Per-pixel AdaIN maps from region statistics blended by the pixel's region weights.

    At each pixel the content and style statistics of the regions are averaged with the pixel's
    weights, and AdaIN's map is formed from the averages (``scale = s_std / c_std``, ...; blended
    with ``strength`` as :func:`~rest_video.ops.stats.adain_affine`). Inside a region (one-hot
    weight) that is exactly the region's own map. On a feathered border, blending the statistics
    rather than the maps keeps the map of a region with a small content spread (a smooth sky: a
    large ``scale``) from being applied to the features of its textured neighbour, which left a
    bright rim along the border.

    Args:
        weights: ``(N, K)`` weights of the K regions at N pixels (rows sum to 1).
        c_mean, c_std, s_mean, s_std: ``(K, C)`` content and style statistics of each region.
        strength: 0 = content, 1 = full AdaIN.

    Returns:
        ``(scale, shift)``, each ``(N, C)`` float32: the pixel's features ``x`` map to ``x * scale + shift``.
    """
    stats = (c_mean, c_std, s_mean, s_std)
    if weights.dim() != 2 or any(t.shape != (weights.shape[1], c_mean.shape[1]) for t in stats):
        raise ShapeError(f"weights must be (N, K) and statistics (K, C), got {tuple(weights.shape)} and "
                         f"{[tuple(t.shape) for t in (c_mean, c_std, s_mean, s_std)]}")
    w = weights.float()
    a = (w @ s_std.float()).div_(w @ c_std.float())
    b = (w @ s_mean.float()).sub_(a * (w @ c_mean.float()))
    return a.mul_(strength).add_(1.0 - strength), b.mul_(strength)


def masked_adain(feat: Tensor, weights: Tensor, content_stats: list[tuple[Tensor, Tensor]],
                 style_stats: list[tuple[Tensor, Tensor]], strength: float = 1.0) -> Tensor:
    """AdaIN with a map per region (:func:`region_affine_`) on ``feat`` ``(1, C, H, W)``: the
    training form's masked AdaIN, the same per-pixel maps the inference form applies.

    Args:
        weights: ``(K, H, W)`` region weights (one-hot: hard regions; :func:`feather_weights`: soft).
        content_stats, style_stats: K ``(mean, std)`` pairs, each ``(1, C, 1, 1)``.

    Returns:
        ``(1, C, H, W)`` in ``feat``'s dtype.
    """
    _check_masks(feat, weights, "weights")
    K, H, W = weights.shape
    if len(content_stats) != K or len(style_stats) != K:
        raise ShapeError(f"{K} weight maps but {len(content_stats)} content and {len(style_stats)} "
                         "style statistics")
    rows = lambda stats, i: torch.stack([st[i].float().flatten() for st in stats])  # noqa: E731 - (K, C)
    maps = RegionMaps(rows(content_stats, 0), rows(content_stats, 1), rows(style_stats, 0),
                      rows(style_stats, 1), strength)
    C = feat.shape[1]
    f = feat.float().permute(0, 2, 3, 1).reshape(H * W, C).clone()  # (N, C), a copy: mapped in place
    region_affine_(f, weights.reshape(K, H * W).float(), maps)
    return f.view(1, H, W, C).permute(0, 3, 1, 2).contiguous().to(feat.dtype)


def masked_rows(rows: Tensor, mask: Tensor) -> Tensor:
    """``rows`` ``(N, C)`` (pixels in raster order) as float32, zero where ``mask`` (``N`` values,
    any shape) is not set: a region's features, whose Gram moments are its statistics' sums.

    >>> masked_rows(torch.ones(3, 2), torch.tensor([True, False, True]))[:, 0].tolist()
    [1.0, 0.0, 1.0]
    """
    return rows.float() * mask.reshape(-1, 1).to(torch.float32)


def region_affine_(f: Tensor, weights: Tensor, maps: RegionMaps) -> Tensor:
    """Masked AdaIN in place on ``f`` ``(N, C)`` float32 (N pixels in raster order): each pixel
    mapped by :func:`blend_affine` of its regions' statistics, blended by ``weights`` ``(K, N)``.

    Inside a region (weight 1) the map is the region's own, looked up per pixel from a ``(K, C)``
    table; only the pixels of feathered borders get the blend computed (few). Returns ``f``.

    >>> f = torch.ones(3, 1); w = torch.tensor([[1.0, 0.5, 0.0], [0.0, 0.5, 1.0]])
    >>> one, two = torch.ones(2, 1), torch.tensor([[1.0], [3.0]])
    >>> region_affine_(f, w, RegionMaps(one, one, two, one, 1.0)).flatten().tolist()
    [1.0, 2.0, 3.0]
    """
    K = weights.shape[0]
    top, slot = weights.max(0)
    border = (top < 1.0).nonzero().flatten()
    fb = f.index_select(0, border) if border.numel() else None
    scale, shift = blend_affine(torch.eye(K, device=f.device), *maps)  # each region's own map, (K, C)
    f.mul_(scale.index_select(0, slot)).add_(shift.index_select(0, slot))
    if fb is not None:
        bs, bh = blend_affine(weights[:, border].T, *maps)
        f.index_copy_(0, border, fb.mul_(bs).add_(bh))
    return f
