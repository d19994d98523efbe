"""Colour distributions in CIE Lab: the palette distance (a metric) and a sliced Wasserstein loss.

- :func:`palette_distance`: how far an image's colours are from a reference photo's, in Lab units.
  It charges for a wrong palette, a wrong tone curve and a missing contrast.
- :func:`sliced_wasserstein_lab`: the differentiable training counterpart, on tensors.

Both convert sRGB (D65) to CIE Lab with :func:`kornia.color.rgb_to_lab` (L in [0, 100]).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from rest_video.core.errors import ShapeError

PALETTE_DIRECTIONS = 64
PALETTE_SAMPLES = 20_000
PALETTE_QUANTILES = np.linspace(0.005, 0.995, 100)
PALETTE_SEED = 0


def rgb_to_lab(rgb: Tensor) -> Tensor:
    """``(..., 3, H, W)`` sRGB in [0, 1] -> CIE Lab (D65), same shape; differentiable."""
    import kornia

    return kornia.color.rgb_to_lab(rgb.clamp(0.0, 1.0))


def _directions(n: int, seed: int) -> np.ndarray:
    d = np.random.default_rng(seed).normal(size=(n, 3))
    return d / np.linalg.norm(d, axis=1, keepdims=True)


def _lab_samples(img: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` Lab colours (float64 ``(n, 3)``) of an ``(H, W, 3)`` RGB uint8 image.

    An image with at most ``n`` pixels gives all of them (so the result cannot depend on pixel order);
    a larger one gives ``n`` pixels drawn without replacement.
    """
    if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8:
        raise ShapeError(f"palette distance needs (H, W, 3) uint8 RGB images, got {img.dtype} {tuple(img.shape)}")
    px = img.reshape(-1, 3)
    if len(px) > n:
        px = px[rng.choice(len(px), n, replace=False)]
    t = torch.from_numpy(np.ascontiguousarray(px.T)).float().div_(255.0)[:, :, None]  # (3, n, 1)
    return rgb_to_lab(t)[:, :, 0].T.double().numpy()


def palette_distance(image: np.ndarray, reference: np.ndarray, directions: int = PALETTE_DIRECTIONS,
                     samples: int = PALETTE_SAMPLES, seed: int = PALETTE_SEED) -> float:
    """Sliced Wasserstein-1 distance between the pixel colours of two RGB uint8 images, in Lab units.

    ``directions`` fixed random unit directions in Lab (seeded), ``samples`` pixels of each image;
    both samples are projected on each direction and their 100 quantiles at 0.5 % .. 99.5 % compared;
    the result is the mean absolute difference. 0 for identical colour distributions; sizes may differ.
    """
    rng = np.random.default_rng(seed)
    a = _lab_samples(image, samples, rng)
    b = _lab_samples(reference, samples, rng)
    dirs = _directions(directions, seed)
    qa = np.quantile(a @ dirs.T, PALETTE_QUANTILES, axis=0)
    qb = np.quantile(b @ dirs.T, PALETTE_QUANTILES, axis=0)
    return float(np.abs(qa - qb).mean())


def sliced_wasserstein_lab(output: Tensor, style: Tensor, directions: int = 32, samples: int = 4096,
                           generator: torch.Generator | None = None) -> Tensor:
    """Differentiable sliced Wasserstein-1 loss between the Lab colours of two RGB batches.

    ``output`` ``(B, 3, H, W)`` and ``style`` ``(B, 3, h, w)`` in [0, 1]; per image, ``samples``
    random pixels of each are projected on ``directions`` random unit directions, sorted, and
    compared (mean absolute difference, Lab units), averaged over the batch.
    """
    if output.dim() != 4 or style.dim() != 4 or output.shape[:2] != style.shape[:2] or output.shape[1] != 3:
        raise ShapeError(f"expected two RGB batches of equal size, got {tuple(output.shape)} and {tuple(style.shape)}")
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
