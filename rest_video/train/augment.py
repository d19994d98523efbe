"""Style augmentation: random photographic grades, so training sees strong looks.

Most training photos are muted; a network that has seldom seen a strong look learns to transfer
little. :func:`grade` applies what a colourist would: white balance and tint, saturation,
contrast and a tone curve (gamma), split toning (shadows and highlights pushed to two hues),
and a mild channel mix. Every step keeps the image in [0, 1].
"""

from __future__ import annotations

import torch
from torch import Tensor

_LUMA = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)


def _uniform(g: torch.Generator, shape: tuple[int, ...], lo: float, hi: float) -> Tensor:
    return torch.rand(shape, generator=g) * (hi - lo) + lo


def grade(x: Tensor, generator: torch.Generator) -> Tensor:
    """A random grade per image of ``x`` ``(B, 3, H, W)`` in [0, 1]; returns a new tensor in [0, 1]."""
    b = x.shape[0]
    g = generator
    y = x.float()
    # white balance / tint: per-channel gains
    y = y * _uniform(g, (b, 3, 1, 1), 0.7, 1.3)
    y = y / y.amax(dim=(1, 2, 3), keepdim=True).clamp(min=1.0)
    # channel mix: each channel takes a little of the others
    mix = torch.eye(3).expand(b, 3, 3) + _uniform(g, (b, 3, 3), -0.15, 0.15)
    mix = mix / mix.sum(dim=2, keepdim=True)
    y = torch.einsum("bij,bjhw->bihw", mix, y).clamp(0.0, 1.0)
    # saturation around luma
    luma = (y * _LUMA).sum(1, keepdim=True)
    y = (luma + (y - luma) * _uniform(g, (b, 1, 1, 1), 0.5, 1.8)).clamp(0.0, 1.0)
    # tone: gamma, then an S-curve / flattening blend for contrast
    y = y.clamp(min=1e-6) ** _uniform(g, (b, 1, 1, 1), 0.6, 1.6)
    s_curve = y * y * (3.0 - 2.0 * y)
    c = _uniform(g, (b, 1, 1, 1), -0.6, 1.0)
    y = (y + c * (s_curve - y)).clamp(0.0, 1.0)
    # split toning: shadows towards one colour, highlights towards another
    luma = (y * _LUMA).sum(1, keepdim=True)
    shadow = _uniform(g, (b, 3, 1, 1), -0.08, 0.08)
    high = _uniform(g, (b, 3, 1, 1), -0.08, 0.08)
    y = y + shadow * (1.0 - luma) + high * luma
    return y.clamp(0.0, 1.0).to(x.dtype)


def augment_styles(x: Tensor, p: float, generator: torch.Generator) -> Tensor:
    """Grade each image of ``x`` with probability ``p``; the others are returned unchanged."""
    if p <= 0:
        return x
    graded = grade(x, generator)
    keep = torch.rand((x.shape[0], 1, 1, 1), generator=generator) >= p
    return torch.where(keep, x, graded)
