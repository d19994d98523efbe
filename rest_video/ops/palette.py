"""Colour distributions in CIE Lab: :func:`rgb_to_lab` and the sliced Wasserstein loss on tensors.

:func:`sliced_wasserstein_lab` is the differentiable training counterpart of the palette distance
(:func:`rest_video.metrics.palette_distance`). Both convert sRGB (D65) to CIE Lab with
:func:`kornia.color.rgb_to_lab` (L in [0, 100]).
"""

from __future__ import annotations

import torch
from torch import Tensor

from rest_video.core.errors import ShapeError


def rgb_to_lab(rgb: Tensor) -> Tensor:
    """``(..., 3, H, W)`` sRGB in [0, 1] -> CIE Lab (D65), same shape; differentiable."""
    import kornia

    return kornia.color.rgb_to_lab(rgb.clamp(0.0, 1.0))


def sliced_wasserstein_lab(output: Tensor, style: Tensor, directions: int = 32, samples: int = 4096,
                           generator: torch.Generator | None = None) -> Tensor:
    """Differentiable sliced Wasserstein-1 loss between the Lab colours of two RGB batches.

    ``output`` ``(B, 3, H, W)`` and ``style`` ``(B, 3, h, w)`` in [0, 1]; per image, ``samples``
    random pixels of each are projected on ``directions`` random unit directions, sorted, and
    compared (mean absolute difference, Lab units), averaged over the batch.
    """
    if output.dim() != 4 or style.dim() != 4 or output.shape[:2] != style.shape[:2] or output.shape[1] != 3:
        raise ShapeError(
            f"expected two RGB batches of equal size, got {tuple(output.shape)} and {tuple(style.shape)}"
        )
    b = output.shape[0]
    dev = output.device
    a = rgb_to_lab(output.float()).flatten(2)  # (B, 3, N)
    s = rgb_to_lab(style.float()).flatten(2)
    n = min(samples, a.shape[2], s.shape[2])
    ia = torch.randint(a.shape[2], (b, n), generator=generator, device="cpu").to(dev)
    is_ = torch.randint(s.shape[2], (b, n), generator=generator, device="cpu").to(dev)
    a = torch.gather(a, 2, ia[:, None].expand(b, 3, n))
    s = torch.gather(s, 2, is_[:, None].expand(b, 3, n))
    d = torch.randn(directions, 3, generator=generator).to(dev)
    d = d / d.norm(dim=1, keepdim=True)
    pa = torch.einsum("kc,bcn->bkn", d, a).sort(dim=2).values
    ps = torch.einsum("kc,bcn->bkn", d, s).sort(dim=2).values
    return (pa - ps).abs().mean()


def match_lab_mean_std(content: Tensor, style: Tensor, eps: float = 1e-5) -> Tensor:
    """Reinhard colour transfer on tensors: each image of ``content`` ``(B, 3, H, W)`` (sRGB in
    [0, 1]) moved to the per-channel CIE Lab mean and std of its ``style`` ``(B, 3, h, w)``;
    returns sRGB clamped to [0, 1]."""
    import kornia

    c = rgb_to_lab(content.float())
    s = rgb_to_lab(style.float())
    cm, cs = c.mean((2, 3), keepdim=True), c.std((2, 3), keepdim=True)
    sm, ss = s.mean((2, 3), keepdim=True), s.std((2, 3), keepdim=True)
    return kornia.color.lab_to_rgb((c - cm) / (cs + eps) * ss + sm).clamp(0.0, 1.0)
