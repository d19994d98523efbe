"""Tiled inference: frames too large for the memory budget, stylized band by band, bit for bit
as the whole frame.

REST keeps the resolution, so an output pixel depends on a window of ``2 * halo + 1`` input pixels
(``halo``: one pixel per 3x3 conv on the longest path, encoder then decoder; 10 for the shipped
5-layer model) and, through AdaIN, on per-channel statistics of the encoder features at the
stylized layers over the whole frame. A frame over the budget therefore runs in two passes:

1. **Statistics.** The encoder runs on strips of rows, each with ``stats_halo`` rows of real
   neighbour pixels above and below (cut only at the frame's true border, where the convs'
   replication padding sees exactly what it sees on the whole frame). Each strip hands the Gram
   blocks whose pixels it owns (whole :data:`~rest_video.models.moments.GRAM_BLOCK` runs of pixels
   in raster order) to a :class:`~rest_video.models.moments.FrameMoments` per layer, which sums
   them as the whole frame's forward does: the statistics are the untiled ones, bit for bit.
2. The statistics filter (temporal smoothing) sees them once, as in an untiled call, and AdaIN's
   per-frame affine maps are fixed from them.
3. **Bands.** The network runs on bands of rows, each inside a window of ``halo`` more rows above
   and below (but at the frame's border); the window's own edge rows (replicated by the convs)
   only reach the ``halo`` rows that are cropped away. Every window of a frame has the same height
   (the last one is moved inward, overlapping its neighbour), so the buffers are reused.

**Full-width strips and bands, not square tiles:** oneDNN picks its blocking from the image width,
and another blocking rounds a pixel's sum differently, so square tiles were not exact; windows of
the frame's own width give its bits (tests/engine/test_tiling.py; BENCHMARKS.md, "Large frames").
A window holds at least ``2 * halo + MIN_ROWS`` full rows, so memory is bounded by the width. On
CUDA cuDNN chooses algorithms per shape, so a band may differ by float rounding (untested here).

The frames are converted to float a window at a time: no whole-frame float copy exists.
:func:`bytes_per_pixel` estimates the working memory per pixel of each pass from the model
(channels, layers, dtype, backend); :class:`TilePlan` sizes strips and bands to the budget.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
import torch

from rest_video.engine.tensors import frames_to_tensor, tensor_to_uint8
from rest_video.models import moments
from rest_video.models.masked import region_maps
from rest_video.models.moments import FrameMoments, OnesCache
from rest_video.ops.masked_adain import masked_rows
from rest_video.style import StatsFilter, StyleStats
from rest_video.style.regions import WHOLE, Regions

log = logging.getLogger(__name__)

MIN_ROWS = 4
"""Fewest output rows a band or strip has, whatever the budget (below this the halo rows cost more
than the band)."""

BAND_ROWS = 256
"""Most output rows a band or strip has, however large the budget: the halo then costs at most
``2 * halo / BAND_ROWS`` of the compute (8 % for the shipped model's 10 rows a side, 4 % for the
statistics pass's 5), and taller bands would only hold more memory."""


def bytes_per_pixel(net, stage: str) -> int:
    """Estimated working memory per pixel of ``net`` (a ``RESTInference``) for ``stage``: an upper
    bound on what is alive at the peak, in bytes (device memory on CUDA, host memory on the CPU).

    ``"frame"``: a whole frame (statistics and network); ``"tile"``: a band with fixed statistics;
    ``"stats"``: a strip of the statistics pass. Counted: the uint8 input; the float input; every
    encoder layer (the decoder takes them as skips); the decoder's own buffers: on the oneDNN
    backend two more unless two unstylized encoder layers lend theirs, on the generic backend its
    input, the skip concatenation, a padded copy and the output, and on the CPU the im2col columns
    (9 values per input channel) and fp32 product of torch's native conv, which runs fp16 / bf16
    there; the float output and its conversion to uint8; the ones of the Gram GEMM. Measured against
    peak RSS (BENCHMARKS.md, "Large frames: tiled inference"): oneDNN fp32 348 B/pixel measured for
    363 estimated, CPU bf16 1025 for 1038. Not measured on CUDA (no GPU here), where cuDNN's
    workspace comes on top.
    """
    s = torch.empty((), dtype=net.dtype).element_size()
    C, L = net.cfg.width, net.cfg.layers
    generic = net.backend != "mkldnn"
    native = generic and net.device.type == "cpu"  # torch's own im2col conv (fp16 / bf16 on the CPU)
    to_u8 = 3 * 4 + 3 if net.backend == "mkldnn" else 2 * 3 * 4 + 3 + 3  # fp32 copy (+ x255), uint8
    if stage == "stats":  # two layers at a time, + a padded copy of the conv input
        act = (3 + 2 * C + (C if generic else 0) + (9 * C if native else 0)) * s + (4 * C if native else 0)
        return 3 + act + 4 + (4 * C if s < 4 else 0)  # uint8 in; ones; fp32 copy of fp16/bf16 features
    if stage not in ("frame", "tile"):
        raise ValueError(f"unknown stage {stage!r}")
    plain = L - len(net.cfg.stylized)  # unstylized encoder layers: the decoder reuses their buffers
    dec = 6 * C if generic else max(0, 2 - plain) * C
    act = (3 + L * C + dec + 3 + (18 * C if native else 0)) * s + (4 * C if native else 0)
    return 3 + act + to_u8 + (4 if stage == "frame" else 0)


def region_bytes_per_pixel(net, regions: int) -> int:
    """Working memory per pixel that a masked frame with ``regions`` slots adds to every stage:
    each slot's mask (bool) and weight (fp32), the stylized skips built in fp32 (they are not
    folded into the decoder), a region's zeroed copy of a layer's features, and the per-pixel
    scale and shift with their temporaries (:func:`~rest_video.ops.masked_adain.blend_affine`).
    0 without regions. (Estimated, not measured against peak RSS.)"""
    if not regions:
        return 0
    C = net.cfg.width
    return regions * 5 + (len(net.cfg.stylized) + 6) * C * 4


def balanced(n: int, size: int) -> list[tuple[int, int]]:
    """``[0, n)`` cut into ``ceil(n / size)`` runs of near-equal length (each at most ``size``)."""
    parts = max(1, math.ceil(n / max(1, size)))
    edges = [round(i * n / parts) for i in range(parts + 1)]
    return [(edges[i], edges[i + 1]) for i in range(parts)]


def window(a: int, b: int, n: int, size: int, halo: int) -> tuple[int, int]:
    """A run ``[s, s + size)`` inside ``[0, n)`` holding ``[a, b)`` with ``halo`` pixels of margin
    on every side that is not the edge of ``[0, n)`` (``size >= b - a + 2 * halo`` or ``n``)."""
    size = min(size, n)
    s = min(max(a - halo, 0), n - size)
    return s, s + size


@dataclass(frozen=True)
class Band:
    """Rows ``[out[0], out[1])`` of a frame's output, computed on the input rows ``win``."""

    out: tuple[int, int]
    win: tuple[int, int]


@dataclass(frozen=True)
class Strip:
    """Pixels ``[first, last)`` (raster order) of the statistics pass, on the rows ``rows`` of the frame."""

    first: int
    last: int
    rows: tuple[int, int]


class TilePlan:
    """Sizes of the two passes for a network and a memory budget.

    Args:
        net: a ``RESTInference`` (its :attr:`halo`, :attr:`stats_halo` and :func:`bytes_per_pixel`).
        budget: bytes of working memory one call may use (``runtime.max_memory_mb``).
    """

    def __init__(self, net, budget: int) -> None:
        if budget <= 0:
            raise ValueError(f"memory budget must be > 0 bytes, got {budget}")
        self.net, self.budget = net, int(budget)
        self.halo, self.stats_halo = int(net.halo), int(net.stats_halo)
        self.bpp = {stage: bytes_per_pixel(net, stage) for stage in ("frame", "tile", "stats")}

    def fits(self, frames: int, h: int, w: int, regions: int = 0) -> bool:
        """True when ``frames`` frames of ``h`` x ``w`` fit the budget whole (the untiled path);
        ``regions``: slots of a masked frame (:func:`region_bytes_per_pixel`)."""
        return frames * h * w * (self.bpp["frame"] + region_bytes_per_pixel(self.net, regions)) <= self.budget

    def rows(self, stage: str, w: int, regions: int = 0) -> int:
        """Rows of a ``w``-pixel-wide window of ``stage`` (``"tile"``, ``"stats"``): as many as fit
        the budget, at most ``BAND_ROWS`` and at least ``MIN_ROWS`` output rows plus the halo."""
        hal = self.halo if stage == "tile" else self.stats_halo
        fit = self.budget // ((self.bpp[stage] + region_bytes_per_pixel(self.net, regions)) * w)
        return max(min(fit, BAND_ROWS + 2 * hal), MIN_ROWS + 2 * hal)

    def bands(self, h: int, w: int, regions: int = 0) -> list[Band]:
        """Bands of rows covering an ``h``-row frame, each with ``halo`` rows of margin in its
        window (but at the frame's border); every window has the same height, within the budget
        unless even ``MIN_ROWS`` output rows do not fit."""
        hal = self.halo
        wh = self.rows("tile", w, regions)
        if wh >= h:
            return [Band((0, h), (0, h))]
        runs = balanced(h, wh - 2 * hal)
        wh = min(h, max(b - a for a, b in runs) + 2 * hal)  # as small as the largest band needs
        return [Band((a, b), window(a, b, h, wh, hal)) for a, b in runs]

    def strips(self, h: int, w: int, regions: int = 0) -> list[Strip]:
        """Strips for the statistics pass: each owns whole Gram blocks (the last one also the
        tail), and its rows hold them with ``stats_halo`` rows of margin."""
        n, blk, hal = h * w, moments.GRAM_BLOCK, self.stats_halo
        # blocks per strip: their pixels span at most (owned rows + 1) rows (a block may start mid-row)
        per = max(1, ((self.rows("stats", w, regions) - 2 * hal - 1) * w) // blk)
        nblocks = n // blk
        runs = [(k * blk, min(k + per, nblocks) * blk) for k in range(0, nblocks, per)] or [(0, 0)]
        runs[-1] = (runs[-1][0], n)  # the last strip also holds the tail
        need = [(a // w, -(-b // w)) for a, b in runs]
        size = min(h, max(b - a for a, b in need) + 2 * hal)
        return [
            Strip(a, b, window(ra, rb, h, size, hal)) for (a, b), (ra, rb) in zip(runs, need, strict=False)
        ]


class TiledStylizer:
    """Runs uint8 frames through ``net`` (a ``RESTInference``) in the strips and bands of a
    :class:`TilePlan`; each window is converted to ``input_dtype`` as the whole frame would be
    (:func:`~rest_video.engine.tensors.frames_to_tensor`) and rounded back to uint8 the same way.
    Serves one thread at a time (it clears its Gram ones and the network's buffers after a call)."""

    def __init__(self, net, plan: TilePlan, input_dtype: torch.dtype) -> None:
        self.net, self.plan, self.input_dtype = net, plan, input_dtype
        self._ones = OnesCache()
        self._warned: set[int] = set()  # frame widths warned about (once each)

    def __call__(self, frames: np.ndarray, style: StyleStats, strength: float,
                 stats_filter: StatsFilter | None = None, regions: Regions | None = None) -> np.ndarray:
        """Stylize uint8 ``(N, H, W, 3)`` frames; returns the same shape, as the untiled call would.

        ``regions`` (one frame): masked AdaIN, the regions' masks and weights cut per band as the
        frame is (``style`` is then unused)."""
        n, h, w, _ = frames.shape
        net, plan = self.net, self.plan
        k = 0 if regions is None else len(regions.keys)
        if regions is not None and n != 1:
            raise ValueError("masked frames run in bands one at a time")
        bands, strips = plan.bands(h, w, k), plan.strips(h, w, k)
        wh = bands[0].win[1] - bands[0].win[0]
        if wh * w * plan.bpp["tile"] > plan.budget and w not in self._warned:
            self._warned.add(w)
            log.warning("a %d-pixel-wide frame needs %.1f MB per band of %d rows, "
                        "over the memory budget of %.1f MB",
                        w, wh * w * plan.bpp["tile"] / 2**20, wh, plan.budget / 2**20)
        log.debug("tiled: %dx%d frame, %d strips of %d rows, %d bands of %d rows",
                  w, h, len(strips), strips[0].rows[1] - strips[0].rows[0], len(bands), wh)
        out = np.empty_like(frames)
        try:
            with torch.inference_mode(), net.threads(("tiled", n, h, w), wh * w) as threads:
                net.release()  # buffers of other shapes (a whole frame, the other pass) go first
                stats = self.statistics(frames, strips, threads, regions)
                if stats_filter is not None:
                    stats = stats_filter(stats)
                if regions is None:
                    maps = net.adain_maps(stats, style, strength)
                else:
                    maps = region_maps(net, stats, regions, strength)
                net.release()
                for i in range(n):
                    if regions is None:
                        mi = {layer: (m[i:i + 1], c[i:i + 1]) for layer, (m, c) in maps.items()}
                    for band in bands:
                        (y0, y1), (wy0, wy1) = band.out, band.win
                        x = frames_to_tensor(frames[i:i + 1, wy0:wy1], net.device, self.input_dtype)
                        if regions is None:
                            y = net.stylize_tile(x, mi, h * w, threads)
                        else:
                            y = net.stylize_tile(x, maps, h * w, threads, regions.band(wy0, wy1))
                        y = y[..., y0 - wy0:y1 - wy0, :]
                        out[i, y0:y1] = tensor_to_uint8(y.clamp_(0.0, 1.0))[0]
        finally:  # the bands' buffers are the budget's size: not kept between calls
            net.release()
            self._ones.clear()
        return out

    def statistics(self, frames: np.ndarray, strips: list[Strip], threads: int,
                   regions: Regions | None = None) -> dict:
        """Content statistics ``{layer: (mean, std)}`` ``(N, C, 1, 1)`` of the frames, strip by strip.

        With ``regions`` (one frame): what :func:`~rest_video.models.masked.region_stats` gives on the whole
        frame, bit for bit (a region's features, zero outside it, go through the same Gram blocks)."""
        net = self.net
        n, h, w, _ = frames.shape
        stylized, C = net.cfg.stylized, net.cfg.width
        keys: list = list(stylized)
        flat = None
        if regions is not None:
            keys = [layer if key == WHOLE else (layer, key) for layer in stylized for key in regions.keys]
            flat = {key: regions.masks[k].reshape(-1, 1).to(torch.float32)
                    for k, key in enumerate(regions.keys) if key != WHOLE}
            counts = dict(zip(regions.keys, regions.masks.flatten(1).sum(1).tolist(), strict=False))
        G: dict = {key: [] for key in keys}
        S: dict = {key: [] for key in keys}
        for i in range(n):
            acc = {key: FrameMoments(h * w, C, net.dtype if isinstance(key, int) else torch.float32,
                                     net.device) for key in keys}
            for st in strips:
                r0, r1 = st.rows
                x = frames_to_tensor(frames[i:i + 1, r0:r1], net.device, self.input_dtype)
                lo, hi = st.first - r0 * w, st.last - r0 * w
                for layer, r in net.encode_layers(x, max(stylized), h * w, threads):
                    if layer not in stylized:
                        continue
                    R = r.permute(0, 2, 3, 1).reshape((r1 - r0) * w, r.shape[1])  # a view (NHWC)
                    if layer in acc:
                        acc[layer].add(st.first, R[lo:hi], self._ones)
                    for key, m in (flat or {}).items():
                        inside = masked_rows(R[lo:hi], m[st.first:st.last])
                        acc[(layer, key)].add(st.first, inside, self._ones)
            for key in keys:
                g, s = acc[key].total()
                G[key].append(g)
                S[key].append(s)
        out = {}
        for key in keys:
            layer, px = (key, h * w) if isinstance(key, int) else (key[0], int(counts[key[1]]))
            out[key] = net.stats_from_moments(layer, torch.stack(G[key]), torch.stack(S[key]), px)
        return out
