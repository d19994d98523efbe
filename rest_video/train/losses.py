"""REST training losses (paper section 3.4): content, style (mean/std), semantic distillation."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from rest_video.ops.stats import mean_std


def content_loss(out_feat: Tensor, content_feat: Tensor) -> Tensor:
    """MSE between teacher features of the output and of the content at one layer."""
    return F.mse_loss(out_feat, content_feat)


def style_loss(out_feats: list[Tensor], style_feats: list[Tensor]) -> Tensor:
    """Sum over layers of MSE between channel means plus MSE between channel stds."""
    total = out_feats[0].new_zeros(())
    for o, s in zip(out_feats, style_feats):
        om, os_ = mean_std(o)
        sm, ss = mean_std(s)
        total = total + F.mse_loss(om, sm) + F.mse_loss(os_, ss)
    return total


class DistillHeads(nn.Module):
    """Semantic distillation: adaptive average pooling + learned linear projection Q + MSE.

    One 1x1 conv (no bias) per distilled encoder layer maps ``width`` channels to the teacher's.
    """

    def __init__(self, layers: tuple[int, ...], width: int, teacher_channels: list[int]) -> None:
        super().__init__()
        self.layers = tuple(layers)
        self.proj = nn.ModuleDict({str(l): nn.Conv2d(width, teacher_channels[l - 1], 1, bias=False) for l in layers})

    def forward(self, enc_feats: list[Tensor], teacher_feats: list[Tensor]) -> Tensor:
        total = enc_feats[0].new_zeros(())
        for l in self.layers:
            t = teacher_feats[l - 1]
            pooled = F.adaptive_avg_pool2d(enc_feats[l - 1], t.shape[-2:])
            total = total + F.mse_loss(self.proj[str(l)](pooled), t)
        return total
