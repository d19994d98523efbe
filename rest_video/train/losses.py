"""REST training losses: content, style (mean/std), semantic distillation (paper section 3.4), and colour."""

from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rest_video.metrics import gram
from rest_video.ops.palette import rgb_to_lab, sliced_wasserstein_lab
from rest_video.ops.stats import mean_std


def content_loss(out_feat: Tensor, content_feat: Tensor) -> Tensor:
    """MSE between teacher features of the output and of the content at one layer."""
    return F.mse_loss(out_feat, content_feat)


def _per_layer(name: str, out_feats: list[Tensor], style_feats: list[Tensor], weights: Sequence[float] | None,
               term) -> Tensor:
    """``sum_l w_l * term(out_l, style_l)``, skipping layers of weight 0 (default: all weights 1)."""
    weights = [1.0] * len(out_feats) if weights is None else list(weights)
    if len(weights) != len(out_feats):
        raise ValueError(f"{name}: {len(weights)} weights for {len(out_feats)} layers")
    total = out_feats[0].new_zeros(())
    for w, o, s in zip(weights, out_feats, style_feats, strict=False):
        if w != 0:
            total = total + w * term(o, s)
    return total


def _mean_std_term(o: Tensor, s: Tensor) -> Tensor:
    om, os_ = mean_std(o)
    sm, ss = mean_std(s)
    return F.mse_loss(om, sm) + F.mse_loss(os_, ss)


def _gram_term(o: Tensor, s: Tensor) -> Tensor:
    return (gram(o) - gram(s)).pow(2).sum(dim=(1, 2)).mean()


def style_loss(out_feats: list[Tensor], style_feats: list[Tensor],
               weights: Sequence[float] | None = None) -> Tensor:
    """Weighted sum over layers of MSE between channel means plus MSE between channel stds.

    ``weights`` (one per layer, default all 1 as in the paper) rebalance the layers: the deep
    layers' terms are tens of times larger than relu1_1's, which carries the colours.
    """
    return _per_layer("style_loss", out_feats, style_feats, weights, _mean_std_term)


def gram_style_loss(out_feats: list[Tensor], style_feats: list[Tensor],
                    weights: Sequence[float] | None = None) -> Tensor:
    """Weighted sum over layers of ``||G(out) - G(style)||_F^2`` per image, averaged over the batch,
    with ``G = F F^T / (C H W)``: the eval's Gram loss (:mod:`rest_video.metrics`). Unlike the
    mean/std terms it also charges the channels' correlations, where strong looks went wrong."""
    return _per_layer("gram_style_loss", out_feats, style_feats, weights, _gram_term)


def color_loss(output: Tensor, style: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """Sliced Wasserstein distance between the output's and the style's colours in CIE Lab (Lab units)."""
    return sliced_wasserstein_lab(output, style, generator=generator)


def tone_loss(output: Tensor, target: Tensor, block: int = 8) -> Tensor:
    """Mean absolute Lab difference between ``block``-averaged copies of the output and of a target
    look (the content moved to the style's Lab mean/std): it pins the broad colour and tone
    (brightness, white balance, contrast between regions) and leaves finer structure to the other terms."""
    k = max(1, min(block, output.shape[-2], output.shape[-1]))
    a = F.avg_pool2d(rgb_to_lab(output.float()), k)
    b = F.avg_pool2d(rgb_to_lab(target.float()), k)
    return (a - b).abs().mean()


def pan_flicker(output: Tensor, content: Tensor, scale: int = 1) -> Tensor:
    """The flicker ratio of a one-pixel pan: mean ``|out change|`` over mean ``|input change|``
    between each pixel and its right and lower neighbours, over the batch; with ``scale`` > 1, of
    ``scale x scale``-averaged copies (a pan of ``scale`` pixels, blind to finer detail).

    Under motion of a few pixels a frame, a stylized frame changes, to first order, by this ratio
    times the input's change: it is the training-time twin of :func:`rest_video.metrics.flicker_ratio`
    on moving pixels, which the edges the network draws (luma contrast and the colour it paints
    along edges) set."""
    if scale > 1:
        output, content = F.avg_pool2d(output, scale), F.avg_pool2d(content, scale)

    def change(x: Tensor) -> Tensor:
        return (x[..., :, 1:] - x[..., :, :-1]).abs().mean() + (x[..., 1:, :] - x[..., :-1, :]).abs().mean()

    return change(output) / change(content).clamp_min(1e-6)


def identity_loss(reconstruction: Tensor, content: Tensor) -> Tensor:
    """Mean absolute difference, in 8-bit levels, between the content and its reconstruction
    (the content stylized with its own statistics, i.e. its encoder features decoded as they are)."""
    return (reconstruction - content).abs().mean() * 255.0


class DistillHeads(nn.Module):
    """Semantic distillation: adaptive average pooling + learned linear projection Q + MSE.

    One 1x1 conv (no bias) per distilled encoder layer maps ``width`` channels to the teacher's.
    """

    def __init__(self, layers: tuple[int, ...], width: int, teacher_channels: list[int]) -> None:
        super().__init__()
        self.layers = tuple(layers)
        self.proj = nn.ModuleDict(
            {str(layer): nn.Conv2d(width, teacher_channels[layer - 1], 1, bias=False) for layer in layers}
        )

    def forward(self, enc_feats: list[Tensor], teacher_feats: list[Tensor]) -> Tensor:
        total = enc_feats[0].new_zeros(())
        for layer in self.layers:
            t = teacher_feats[layer - 1]
            pooled = F.adaptive_avg_pool2d(enc_feats[layer - 1], t.shape[-2:])
            total = total + F.mse_loss(self.proj[str(layer)](pooled), t)
        return total
