"""Feature statistics and the stylization transforms built on them (AdaIN, WCT).

All functions are pure tensor functions on ``(B, C, H, W)`` features.
"""

from __future__ import annotations

import torch
from torch import Tensor

from rest_video.core.errors import ShapeError

EPS = 1e-5


def _check_bchw(x: Tensor, name: str = "x") -> None:
    if x.dim() != 4:
        raise ShapeError(f"{name} must be (B, C, H, W), got shape {tuple(x.shape)}")


def mean_std(feat: Tensor, eps: float = EPS) -> tuple[Tensor, Tensor]:
    """Per-channel mean and standard deviation over the spatial dimensions.

    Args:
        feat: features ``(B, C, H, W)``.
        eps: added to the variance before the square root.

    Returns:
        ``(mean, std)``, each ``(B, C, 1, 1)``, computed in float32.

    >>> m, s = mean_std(torch.ones(2, 3, 4, 5))
    >>> m.shape, float(s.max()) < 0.01
    (torch.Size([2, 3, 1, 1]), True)
    """
    _check_bchw(feat, "feat")
    f = feat.float().flatten(2)
    var, mean = torch.var_mean(f, dim=2, unbiased=False)
    return mean[..., None, None], (var + eps).sqrt()[..., None, None]


def adain(content: Tensor, style_mean: Tensor, style_std: Tensor, strength: float = 1.0,
          content_stats: tuple[Tensor, Tensor] | None = None) -> Tensor:
    """Adaptive instance normalisation (Huang & Belongie 2017), blended by ``strength``.

    ``out = strength * (style_std * (c - mu_c) / sigma_c + style_mean) + (1 - strength) * c``

    Args:
        content: content features ``(B, C, H, W)``.
        style_mean, style_std: style statistics ``(B or 1, C, 1, 1)``.
        strength: 0 gives the content features back, 1 full AdaIN.
        content_stats: optional precomputed ``(mean, std)`` of ``content`` (for temporal smoothing).

    Returns:
        stylized features, same shape and dtype as ``content``.
    """
    _check_bchw(content, "content")
    if content_stats is None:
        content_stats = mean_std(content)
    scale, shift = adain_affine(content_stats[0], content_stats[1], style_mean, style_std, strength)
    return (content.float() * scale + shift).to(content.dtype)


def adain_affine(c_mean: Tensor, c_std: Tensor, s_mean: Tensor, s_std: Tensor,
                 strength: float = 1.0) -> tuple[Tensor, Tensor]:
    """AdaIN with blending reduced to a per-channel affine map ``x * scale + shift``.

    Args:
        c_mean, c_std: content statistics ``(B, C, 1, 1)``.
        s_mean, s_std: style statistics ``(B or 1, C, 1, 1)``.
        strength: blend factor in ``[0, 1]``.

    Returns:
        ``(scale, shift)``, each ``(B, C, 1, 1)`` float32.
    """
    a = s_std.float() / c_std.float()
    b = s_mean.float() - a * c_mean.float()
    scale = strength * a + (1.0 - strength)
    shift = strength * b
    return scale, shift


def covariance(feat: Tensor) -> tuple[Tensor, Tensor]:
    """Per-sample channel mean ``(B, C, 1)`` and covariance ``(B, C, C)`` of ``(B, C, H, W)``."""
    _check_bchw(feat, "feat")
    f = feat.double().flatten(2)
    mean = f.mean(dim=2, keepdim=True)
    fc = f - mean
    cov = fc @ fc.transpose(1, 2) / max(f.shape[2] - 1, 1)
    return mean, cov


def wct(content: Tensor, style_mean: Tensor, style_cov: Tensor, strength: float = 1.0,
        eps: float = 1e-5) -> Tensor:
    """Whitening and colouring transform (Li et al. 2017), blended by ``strength``.

    Args:
        content: content features ``(B, C, H, W)``.
        style_mean: ``(B or 1, C, 1)`` channel means of the style features.
        style_cov: ``(B or 1, C, C)`` channel covariance of the style features.
        strength: 0 gives the content back, 1 the full transform.

    Returns:
        features ``(B, C, H, W)`` whose channel covariance matches the style's.
    """
    _check_bchw(content, "content")
    b, c, h, w = content.shape
    c_mean, c_cov = covariance(content)
    eye = torch.eye(c, dtype=torch.float64, device=content.device)
    ec, vc = torch.linalg.eigh(c_cov + eps * eye)
    es, vs = torch.linalg.eigh(style_cov.double() + eps * eye)
    whiten = vc @ torch.diag_embed(ec.clamp_min(eps).rsqrt()) @ vc.transpose(1, 2)
    color = vs @ torch.diag_embed(es.clamp_min(eps).sqrt()) @ vs.transpose(1, 2)
    f = content.double().flatten(2) - c_mean
    out = color @ (whiten @ f) + style_mean.double()
    out = out.view(b, c, h, w)
    out = strength * out + (1.0 - strength) * content.double()
    return out.to(content.dtype)
