"""Folding a trained REST into fewer, cheaper ops (exact, in float64): BatchNorm into the conv
before it, a per-pixel affine map (1x1 projection, AdaIN scale/shift) into the conv after it.

:func:`fold_rest` does it once per device and dtype and returns a :class:`FoldedREST`, the
immutable weights every runner of the inference form (:mod:`rest_video.models.inference`, int8,
masks, bands) computes with.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping, NamedTuple

import torch
from torch import Tensor, nn


def fold_bn(block) -> tuple[Tensor, Tensor]:
    """3x3 conv + BatchNorm (running stats) -> one conv, float64."""
    w = block.conv.weight.detach().double()
    b = (block.conv.bias.detach().double() if block.conv.bias is not None
         else torch.zeros(w.shape[0], dtype=torch.float64))
    bn = block.bn
    g = bn.weight.detach().double() if bn.weight is not None else torch.ones_like(b)
    beta = bn.bias.detach().double() if bn.bias is not None else torch.zeros_like(b)
    k = g / torch.sqrt(bn.running_var.detach().double() + bn.eps)
    return w * k[:, None, None, None], (b - bn.running_mean.detach().double()) * k + beta


def projection(block) -> tuple[Tensor, Tensor]:
    """The block's 1x1 conv as ``(P (C, C), p (C,))`` float64."""
    w = block.proj.weight.detach().double()[:, :, 0, 0]
    b = (block.proj.bias.detach().double() if block.proj.bias is not None
         else torch.zeros(w.shape[0], dtype=torch.float64))
    return w, b


def fold_input_affine(w: Tensor, b: Tensor, m: Tensor, c: Tensor) -> tuple[Tensor, Tensor]:
    """conv(w, b) applied to ``m @ r + c`` (per pixel) == conv(w', b') applied to ``r``.

    Exact under replication padding (padding replicates pixels, the map is per pixel).
    """
    return torch.einsum("ojhw,ji->oihw", w, m).contiguous(), b + torch.einsum("ojhw,j->o", w, c)


class Skip(NamedTuple):
    """A stylized skip as the decoder takes it: the encoder output ``r`` and, when the AdaIN map
    is folded into the decoder conv, its per-sample matrix ``m`` ``(B, C, C)`` and offset ``c``
    ``(B, C)`` (``skip = m @ r + c``); ``m`` and ``c`` are None when ``r`` is the skip itself."""

    r: Tensor
    m: Tensor | None = None
    c: Tensor | None = None


@dataclass(frozen=True)
class DecBlock:
    """One decoder block of the folded form."""

    wx: Tensor | None        # weights on the previous decoder output (None for the first block)
    ws: Tensor | None        # weights on the stylized skip (fp32, folded per frame), None if no skip
    ws_c: Tensor | None      # ws in compute dtype (used as is when the skip is not folded, e.g. WCT)
    b: Tensor                # bias (compute dtype)
    b32: Tensor              # bias fp32 (per-frame folding)
    layer: int               # the encoder layer whose skip it takes
    relu: bool


@dataclass(frozen=True)
class FoldedREST:
    """The weights of a REST (variant ``rest``) folded for one device and compute dtype.

    ``enc``: per encoder block ``(w, b)`` in the compute dtype, BatchNorm and the previous block's
    1x1 projection folded in; ``proj``: per stylized layer the projection ``(P (C, C), p (C,))``
    (float64, for statistics and the per-frame skip folding); ``proj_c``: the same as a 1x1 conv in
    the compute dtype (WCT builds the projected features); ``dec``: the decoder blocks.
    """

    cfg: object
    device: torch.device
    dtype: torch.dtype
    enc: tuple[tuple[Tensor, Tensor], ...]
    proj: Mapping[int, tuple[Tensor, Tensor]]
    proj_c: Mapping[int, tuple[Tensor, Tensor]]
    dec: tuple[DecBlock, ...]

    def macs_per_pixel(self) -> int:
        """Multiply-accumulates per output pixel of the ten folded 3x3 convs (statistics not counted)."""
        dec = [t for blk in self.dec for t in (blk.wx, blk.ws) if t is not None]
        return int(sum(w.numel() for w, _ in self.enc) + sum(w.numel() for w in dec))

    @property
    def stats_halo(self) -> int:
        """Pixels around a pixel that its features at the last stylized layer depend on (the
        radius of every 3x3 encoder conv up to that layer)."""
        return sum(w.shape[-1] // 2 for w, _ in self.enc[: max(self.cfg.stylized)])

    @property
    def halo(self) -> int:
        """Pixels around an output pixel that it depends on besides the global statistics: the
        radii of every encoder and decoder conv (the longest path runs through all of them)."""
        dec = sum((blk.wx if blk.wx is not None else blk.ws).shape[-1] // 2 for blk in self.dec)
        return sum(w.shape[-1] // 2 for w, _ in self.enc) + dec


def fold_rest(model, device: torch.device, dtype: torch.dtype) -> FoldedREST:
    """``model`` (a REST in eval mode, variant ``rest``) folded for ``device`` and ``dtype``."""
    cfg = model.cfg
    to_c = lambda t: t.to(device=device, dtype=dtype).contiguous()  # noqa: E731
    to_32 = lambda t: t.to(device=device, dtype=torch.float32).contiguous()  # noqa: E731
    enc_blocks = model.encoder.blocks
    projs = [projection(b) for b in enc_blocks]
    enc = []
    for i, blk in enumerate(enc_blocks):
        w, b = fold_bn(blk)
        if i > 0:  # the previous block's 1x1 projection, folded into this conv
            w, b = fold_input_affine(w, b, *projs[i - 1])
        enc.append((to_c(w), to_c(b)))
    proj = {layer: (projs[layer - 1][0].to(device), projs[layer - 1][1].to(device)) for layer in cfg.stylized}
    proj_c = {
        layer: (to_c(projs[layer - 1][0][:, :, None, None]), to_c(projs[layer - 1][1]))
        for layer in cfg.stylized
    }
    dec = []
    for k, blk in enumerate(model.decoder.blocks):
        layer = cfg.layers - k
        w = blk.conv.weight.detach().double()
        b = blk.conv.bias.detach().double()
        if k == 0:
            wx, ws = None, w
        elif layer in cfg.stylized:
            c = w.shape[1] // 2
            wx, ws = w[:, :c], w[:, c:]
        else:
            wx, ws = w, None
        dec.append(DecBlock(
            wx=None if wx is None else to_c(wx),
            ws=None if ws is None else to_32(ws),
            ws_c=None if ws is None else to_c(ws),
            b=to_c(b), b32=to_32(b), layer=layer, relu=isinstance(blk.relu, nn.ReLU)))
    return FoldedREST(cfg, device, dtype, tuple(enc), MappingProxyType(proj), MappingProxyType(proj_c),
                      tuple(dec))
