"""Channel moments of a feature map (column sums and Gram matrix), accumulated so that a frame seen
whole and the same frame seen strip by strip give the same bits.

The AdaIN statistics of the inference form come from the sums ``S = sum_x r(x)`` and the Gram
matrix ``G = sum_x r(x) r(x)^T`` of a layer's features over the pixels of a frame. They are summed
as follows, and this order is the definition both paths follow:

1. the frame's pixels, in raster order, are cut into blocks of :data:`GRAM_BLOCK` pixels; each
   whole block gives an fp32 Gram matrix and fp32 column sums (one batched GEMM,
   :func:`block_products`); the pixels after the last whole block are the tail
   (:func:`tail_products`);
2. the blocks are grouped into chunks (:func:`chunk_pixels`: the whole frame in fp32, 64 blocks
   otherwise), each chunk's blocks are summed in fp64 (:func:`reduce_chunk`), and the chunk
   totals are added one after another.

A block's fp32 products depend only on its own pixels (measured: the batched GEMM gives the same
bits for a block whatever the other blocks of the batch, on one thread and on two), so the blocks
may be computed in any grouping: whole frame (:meth:`RESTInference.forward`) or full-width strips
(:mod:`rest_video.engine.tiling`, which collects them in a :class:`FrameMoments`). The fp64 sums
then run over the same tensors in the same order.
"""

from __future__ import annotations

import torch
from torch import Tensor

from rest_video.ops.stats import EPS

GRAM_BLOCK = 1 << 14
"""Pixels per fp32 Gram block: one fp32 GEMM over a whole 720p frame loses ~1e-3 relative variance
to rounding (after the mean is subtracted), blocks of 16k pixels ~2e-6, and are faster (L2-sized)."""

_REDUCED_CHUNK_BLOCKS = (
    64  # fp16 / bf16 features are converted to fp32 64 blocks (a million pixels) at a time
)


def chunk_pixels(n: int, dtype: torch.dtype) -> int:
    """Pixels per fp64 chunk for a frame of ``n`` pixels whose features are ``dtype`` (a whole
    number of blocks, or the whole frame)."""
    return max(n, 1) if dtype == torch.float32 else _REDUCED_CHUNK_BLOCKS * GRAM_BLOCK


class OnesCache:
    """The ``(k, 1, GRAM_BLOCK)`` fp32 ones the column sums are a GEMM with, and the fp32 copy of
    reduced-precision features (:meth:`as_float`), kept between calls."""

    def __init__(self) -> None:
        self._ones: Tensor | None = None
        self._scratch: Tensor | None = None

    def get(self, k: int, blk: int, device: torch.device) -> Tensor:
        t = self._ones
        if t is None or t.shape[0] < k or t.shape[2] != blk or t.device != device:
            self._ones = None  # free the old one first
            t = self._ones = torch.ones(k, 1, blk, device=device, dtype=torch.float32)
        return t[:k]

    def as_float(self, X: Tensor) -> Tensor:
        """``X`` ``(n, C)`` as fp32: ``X`` itself when it is fp32, else a copy into a buffer reused
        between calls (a fresh 60 MB tensor per 720p layer cost 10x the conversion in page faults).
        The result is overwritten by the next call."""
        if X.dtype == torch.float32:
            return X
        n = X.numel()
        t = self._scratch
        if t is None or t.numel() < n or t.device != X.device:
            self._scratch = None
            t = self._scratch = torch.empty(n, device=X.device, dtype=torch.float32)
        out = t[:n].view(X.shape)
        out.copy_(X)
        return out

    def clear(self) -> None:
        self._ones = None
        self._scratch = None


def block_products(Xb: Tensor, ones: OnesCache) -> tuple[Tensor, Tensor]:
    """fp32 ``X^T X`` ``(k, C, C)`` and column sums ``(k, 1, C)`` of each block of ``Xb`` ``(k, blk, C)``."""
    k, blk, _ = Xb.shape
    return torch.bmm(Xb.transpose(1, 2), Xb), torch.bmm(ones.get(k, blk, Xb.device), Xb)


def tail_products(Xr: Tensor) -> tuple[Tensor, Tensor]:
    """fp32 ``X^T X`` ``(C, C)`` and fp64 column sums ``(C,)`` of the tail pixels ``Xr`` ``(n, C)``."""
    return Xr.T @ Xr, Xr.sum(0, dtype=torch.float64)


def reduce_chunk(C: int, device: torch.device, Gk: Tensor | None, Sk: Tensor | None,
                 tail: tuple[Tensor, Tensor] | None) -> tuple[Tensor, Tensor]:
    """One chunk's fp64 Gram ``(C, C)`` and sums ``(C,)``: its blocks' products summed, then the tail."""
    G = torch.zeros(C, C, device=device, dtype=torch.float64)
    S = torch.zeros(C, device=device, dtype=torch.float64)
    if Gk is not None and Gk.shape[0]:
        G += Gk.sum(0, dtype=torch.float64)
        S += Sk.sum(0, dtype=torch.float64)[0]
    if tail is not None:
        G += tail[0].double()
        S += tail[1]
    return G, S


def chunk_moments(X: Tensor, ones: OnesCache) -> tuple[Tensor, Tensor]:
    """fp64 Gram and sums of one chunk's pixels ``X`` ``(n, C)`` fp32, blocks and tail."""
    n, C = X.shape
    blk = GRAM_BLOCK
    k = n // blk
    Gk = Sk = None
    if k:
        Gk, Sk = block_products(X[: k * blk].reshape(k, blk, C), ones)  # a view when X is contiguous
    tail = tail_products(X[k * blk:]) if k * blk < n else None
    return reduce_chunk(C, X.device, Gk, Sk, tail)


def frame_moments(R: Tensor, ones: OnesCache) -> tuple[Tensor, Tensor]:
    """fp64 Gram ``(C, C)`` and sums ``(C,)`` of one frame's features ``R`` ``(N, C)`` (raster order)."""
    N, C = R.shape
    G = torch.zeros(C, C, device=R.device, dtype=torch.float64)
    S = torch.zeros(C, device=R.device, dtype=torch.float64)
    step = chunk_pixels(N, R.dtype)
    for i in range(0, N, step):
        g, s = chunk_moments(ones.as_float(R[i:i + step]), ones)
        G += g
        S += s
    return G, S


class FrameMoments:
    """Block products of one frame's features at one layer, gathered piece by piece (strips), then
    summed exactly as :func:`frame_moments` sums the whole frame.

    Args:
        n: pixels of the frame.
        C: channels.
        dtype: the features' dtype (sets the chunking, :func:`chunk_pixels`).
        device: where the products live.
    """

    def __init__(self, n: int, C: int, dtype: torch.dtype, device: torch.device) -> None:
        self.n, self.C, self.dtype, self.device = n, C, dtype, device
        self.blocks = n // GRAM_BLOCK
        self.G = torch.empty(self.blocks, C, C, device=device, dtype=torch.float32)
        self.S = torch.empty(self.blocks, 1, C, device=device, dtype=torch.float32)
        self.tail: tuple[Tensor, Tensor] | None = None
        self._seen = torch.zeros(self.blocks + 1, dtype=torch.bool)

    def add(self, first_pixel: int, X: Tensor, ones: OnesCache) -> None:
        """Add the pixels ``[first_pixel, first_pixel + len(X))`` of the frame, ``X`` ``(m, C)``.

        ``first_pixel`` must start a block, and ``X`` must hold whole blocks, or whole blocks and
        then the tail (the frame's last pixels)."""
        blk = GRAM_BLOCK
        if first_pixel % blk:
            raise ValueError(f"pixel {first_pixel} does not start a Gram block of {blk}")
        m = X.shape[0]
        b0, k = first_pixel // blk, m // blk
        if k:
            Xb = ones.as_float(X[: k * blk]).reshape(k, blk, self.C)
            self.G[b0:b0 + k], self.S[b0:b0 + k] = block_products(Xb, ones)
            self._seen[b0:b0 + k] = True
        if k * blk < m:
            if first_pixel + m != self.n:
                raise ValueError("only the frame's last pixels may be a partial block")
            self.tail = tail_products(X[k * blk:].float())
            self._seen[-1] = True

    def total(self) -> tuple[Tensor, Tensor]:
        """fp64 Gram ``(C, C)`` and sums ``(C,)`` of the whole frame, bit-identical to
        :func:`frame_moments` on the whole frame's features."""
        has_tail = self.blocks * GRAM_BLOCK < self.n
        if not bool(self._seen[: self.blocks].all()) or (has_tail and self.tail is None):
            raise ValueError("some pixels of the frame were never added")
        G = torch.zeros(self.C, self.C, device=self.device, dtype=torch.float64)
        S = torch.zeros(self.C, device=self.device, dtype=torch.float64)
        step, blk = chunk_pixels(self.n, self.dtype), GRAM_BLOCK
        for i in range(0, self.n, step):  # the chunks of frame_moments, block for block
            end = min(i + step, self.n)
            b0, b1 = i // blk, end // blk
            tail = self.tail if end == self.n and has_tail else None
            g, s = reduce_chunk(self.C, self.device, self.G[b0:b1] if b1 > b0 else None,
                                self.S[b0:b1] if b1 > b0 else None, tail)
            G += g
            S += s
        return G, S


def moments_to_stats(G: Tensor, S: Tensor, n: int, P: Tensor, p: Tensor) -> tuple[Tensor, Tensor]:
    """Mean and std ``(B, C, 1, 1)`` fp32 of the projected features ``P r + p`` from the fp64 Gram
    ``G`` ``(B, C, C)`` and sums ``S`` ``(B, C)`` of ``r`` over ``n`` pixels."""
    mu = S.double() / n
    cov = G.double() / n - mu[:, :, None] * mu[:, None, :]
    mean = mu @ P.T + p
    var = torch.einsum("ij,bjk,ik->bi", P, cov, P).clamp_min(0.0)
    std = (var + EPS).sqrt()
    return mean.float()[:, :, None, None], std.float()[:, :, None, None]
