"""Fitting a 3D colour LUT (:mod:`rest_video.ops.lut`) to (input, output) pixel pairs.

:func:`fit_lut`: trilinear splatting of the output offsets, hole filling by diffusion, then a
Laplacian-regularised least-squares refinement (Jacobi-preconditioned conjugate gradients), so the
table reproduces the pairs it saw and stays a smooth identity-plus-offset where it saw none.
:class:`LutFit` keeps one set of inputs' lattice weights to fit several outputs to them.
"""

from __future__ import annotations

import numpy as np

from rest_video.core.errors import ShapeError
from rest_video.ops.lut import as_unit_rgb, identity_lut, lattice_weights

__all__ = ["EXPORT_FIT", "LutFit", "fit_lut"]

EXPORT_FIT = {"iterations": 20, "max_points": 400_000}
"""How an exported LUT (``rest-video lut``) is fitted: splatted means polished by 20 conjugate-gradient
steps on up to 400,000 colour pairs (offline, so affordable); keyword arguments of :func:`fit_lut`."""


def _grid_laplacian(d: np.ndarray) -> np.ndarray:
    """Graph Laplacian (sum over the 6-neighbourhood of ``d_k - d_neighbour``) of ``(N, N, N, C)``."""
    out = np.zeros_like(d)
    for axis in range(3):
        diff = np.diff(d, axis=axis)
        lo = [slice(None)] * 4
        hi = [slice(None)] * 4
        lo[axis] = slice(0, -1)
        hi[axis] = slice(1, None)
        out[tuple(lo)] -= diff
        out[tuple(hi)] += diff
    return out


def _grid_degree(n: int) -> np.ndarray:
    deg = np.zeros((n, n, n), np.float32)
    for axis in range(3):
        shape = [1, 1, 1]
        shape[axis] = n
        edge = np.full(n, 2.0, np.float32)
        edge[0] = edge[-1] = 1.0
        deg += edge.reshape(shape)
    return deg


def _fill_holes(num: np.ndarray, den: np.ndarray, smooth_steps: int = 4) -> np.ndarray:
    """Weighted means ``num / den`` where ``den > 0``; empty cells filled from the nearest data.

    Push-pull: the sums are pooled 2x2x2 level by level until every cell has data, then each level
    fills its empty cells from the coarser one (nearest parent) and relaxes them a few Jacobi steps
    towards their neighbours' mean, so the fill is smooth and costs O(N^3).

    Args:
        num: weighted sums ``(N, N, N, C)``; den: weights ``(N, N, N)``.
    """
    filled = den > 1e-8
    out = np.zeros(num.shape, np.float32)
    out[filled] = num[filled] / den[filled, None]
    if filled.all() or not filled.any():
        return out
    n = den.shape[0]
    pad = (-n) % 2
    num_p = np.pad(num, [(0, pad)] * 3 + [(0, 0)])
    den_p = np.pad(den, [(0, pad)] * 3)
    m = num_p.shape[0] // 2
    coarse_num = num_p.reshape(m, 2, m, 2, m, 2, -1).sum(axis=(1, 3, 5))
    coarse_den = den_p.reshape(m, 2, m, 2, m, 2).sum(axis=(1, 3, 5))
    coarse = _fill_holes(coarse_num, coarse_den, smooth_steps)
    up = coarse.repeat(2, 0).repeat(2, 1).repeat(2, 2)[:n, :n, :n]
    hole = ~filled
    out[hole] = up[hole]
    for _ in range(smooth_steps):
        acc = np.zeros_like(out)
        cnt = np.zeros(den.shape, np.float32)
        for axis in range(3):
            lo = [slice(None)] * 3
            hi = [slice(None)] * 3
            lo[axis], hi[axis] = slice(0, -1), slice(1, None)
            acc[tuple(hi)] += out[tuple(lo)]
            acc[tuple(lo)] += out[tuple(hi)]
            cnt[tuple(hi)] += 1
            cnt[tuple(lo)] += 1
        out[hole] = acc[hole] / cnt[hole, None]
    return out


class LutFit:
    """The trilinear lattice weights of one set of input colours, to fit several outputs to them
    (:func:`fit_lut` fits one; the LUT path fits its table twice to the same small frame).

    Args:
        inputs: colours ``(..., 3)``, uint8 or float in [0, 1].
        size: lattice points per axis N.
        max_points: pairs used at most (a seeded random subset beyond that).
    """

    def __init__(self, inputs: np.ndarray, size: int = 33, max_points: int = 200_000, seed: int = 0) -> None:
        if inputs.shape[-1:] != (3,):
            raise ShapeError(f"inputs must be (..., 3) colours, got {tuple(inputs.shape)}")
        if size < 2:
            raise ShapeError(f"LUT size must be >= 2, got {size}")
        self.shape, self.size = inputs.shape, size
        x = as_unit_rgb(inputs).reshape(-1, 3)
        self._keep = None
        if len(x) > max_points:
            self._keep = np.random.default_rng(seed).choice(len(x), max_points, replace=False)
            x = x[self._keep]
        self._x = x
        if len(x):
            self._idx, self._w = lattice_weights(x, size)
            den = np.bincount(self._idx.ravel(), self._w.ravel(), minlength=size ** 3)
            self._den = den.astype(np.float32)

    def table(self, outputs: np.ndarray, smoothness: float = 0.02, iterations: int = 0) -> np.ndarray:
        """The LUT taking these inputs to ``outputs`` (the same shape); see :func:`fit_lut`."""
        if outputs.shape != self.shape:
            raise ShapeError(f"inputs and outputs must be matching (..., 3) arrays, got "
                             f"{tuple(self.shape)} and {tuple(outputs.shape)}")
        n, x = self.size, self._x
        ident = identity_lut(n)
        if len(x) == 0:
            return ident
        y = as_unit_rgb(outputs).reshape(-1, 3)
        if self._keep is not None:
            y = y[self._keep]
        idx, w, den = self._idx, self._w, self._den
        flat_idx = idx.ravel()
        cells = n ** 3
        d = y - x                                                   # offsets to fit

        def splat(values: np.ndarray) -> np.ndarray:                # A^T v: (P, C) -> (cells, C)
            wv = w[:, :, None] * values[:, None, :]
            return np.stack([np.bincount(flat_idx, wv[..., c].ravel(), minlength=cells)
                             for c in range(values.shape[1])], axis=1).astype(np.float32)

        def interp(field: np.ndarray) -> np.ndarray:                # A f: (cells, C) -> (P, C)
            return np.einsum("pk,pkc->pc", w, field[idx])

        rhs = splat(d)
        field = _fill_holes(rhs.reshape(n, n, n, 3), den.reshape(n, n, n)).reshape(cells, 3)

        if iterations > 0:
            lam = np.float32(smoothness * len(x) / cells)
            diag = np.bincount(flat_idx, (w * w).ravel(), minlength=cells).astype(np.float32)
            diag = (diag + lam * _grid_degree(n).ravel())[:, None] + 1e-6

            def normal(f: np.ndarray) -> np.ndarray:                # (A^T A + lam L) f
                return splat(interp(f)) + lam * _grid_laplacian(f.reshape(n, n, n, 3)).reshape(cells, 3)

            res = rhs - normal(field)
            z = res / diag
            p = z.copy()
            rz = (res * z).sum(0)
            for _ in range(iterations):
                ap = normal(p)
                pap = (p * ap).sum(0)
                alpha = np.where(pap > 0, rz / np.maximum(pap, 1e-30), 0.0).astype(np.float32)
                field += alpha * p
                res -= alpha * ap
                z = res / diag
                rz_new = (res * z).sum(0)
                beta = np.where(rz > 0, rz_new / np.maximum(rz, 1e-30), 0.0).astype(np.float32)
                p = z + beta * p
                rz = rz_new
        return np.clip(ident + field.reshape(n, n, n, 3), 0.0, 1.0).astype(np.float32)


def fit_lut(inputs: np.ndarray, outputs: np.ndarray, size: int = 33, smoothness: float = 0.02,
            iterations: int = 0, max_points: int = 200_000, seed: int = 0) -> np.ndarray:
    """Fit a 3D LUT so that ``apply_lut(inputs) ~ outputs``.

    The LUT is identity plus an offset field. The offsets are the trilinear-splatted means of
    ``outputs - inputs`` per lattice point; points no pair reached are filled from the nearest
    data (push-pull, see :func:`_fill_holes`), so unseen colours keep a smooth identity-plus-offset.
    With ``iterations`` > 0 that estimate is then polished: least squares of the interpolated
    result against the pairs, plus a Laplacian penalty ``smoothness * (pairs per lattice point) *
    |grad offset|^2``, minimised by Jacobi-preconditioned conjugate gradients.

    Args:
        inputs, outputs: colours ``(..., 3)`` of the same shape, uint8 or float in [0, 1].
        size: lattice points per axis N.
        smoothness: weight of the Laplacian penalty relative to the mean data weight per cell.
        iterations: conjugate-gradient steps (0, the default: splatted means with filled holes; a
            few tens polish the fit to the pairs at ~25 ms per step for 50k pairs).
        max_points: pairs used at most (a seeded random subset beyond that).

    Returns:
        ``(N, N, N, 3)`` float32 table indexed ``[b, g, r]``, values clipped to [0, 1].
    """
    if inputs.shape != outputs.shape or inputs.shape[-1] != 3:
        raise ShapeError(f"inputs and outputs must be matching (..., 3) arrays, got "
                         f"{tuple(inputs.shape)} and {tuple(outputs.shape)}")
    return LutFit(inputs, size, max_points, seed).table(outputs, smoothness, iterations)
