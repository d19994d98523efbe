"""Folding a trained REST into fewer, cheaper ops (exact, in float64): BatchNorm into the conv
before it, a per-pixel affine map (1x1 projection, AdaIN scale/shift) into the conv after it."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor


def fold_bn(block) -> tuple[Tensor, Tensor]:
    """3x3 conv + BatchNorm (running stats) -> one conv, float64."""
    w = block.conv.weight.detach().double()
    b = block.conv.bias.detach().double() if block.conv.bias is not None else torch.zeros(w.shape[0], dtype=torch.float64)
    bn = block.bn
    g = bn.weight.detach().double() if bn.weight is not None else torch.ones_like(b)
    beta = bn.bias.detach().double() if bn.bias is not None else torch.zeros_like(b)
    k = g / torch.sqrt(bn.running_var.detach().double() + bn.eps)
    return w * k[:, None, None, None], (b - bn.running_mean.detach().double()) * k + beta


def projection(block) -> tuple[Tensor, Tensor]:
    """The block's 1x1 conv as ``(P (C, C), p (C,))`` float64."""
    w = block.proj.weight.detach().double()[:, :, 0, 0]
    b = block.proj.bias.detach().double() if block.proj.bias is not None else torch.zeros(w.shape[0], dtype=torch.float64)
    return w, b


def fold_input_affine(w: Tensor, b: Tensor, m: Tensor, c: Tensor) -> tuple[Tensor, Tensor]:
    """conv(w, b) applied to ``m @ r + c`` (per pixel) == conv(w', b') applied to ``r``.

    Exact under replication padding (padding replicates pixels, the map is per pixel).
    """
    return torch.einsum("ojhw,ji->oihw", w, m).contiguous(), b + torch.einsum("ojhw,j->o", w, c)


@dataclass
class DecBlock:
    """One decoder block of the folded form."""

    wx: Tensor | None        # weights on the previous decoder output (None for the first block)
    ws: Tensor | None        # weights on the stylized skip (fp32, folded per frame), None if no skip
    ws_c: Tensor | None      # ws in compute dtype (used as is when the skip is not folded, e.g. WCT)
    b: Tensor                # bias (compute dtype)
    b32: Tensor              # bias fp32 (per-frame folding)
    layer: int               # the encoder layer whose skip it takes
    relu: bool
