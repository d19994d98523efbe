"""Mask-guided stylization of uint8 frames (README, "Masks"): each content region takes its look
from the style's region of the same label, a protected region keeps the input's pixels, and an
image's transparent pixels can be left out of the content statistics (``stats_mask``).

:class:`MaskedStylizer` serves a :class:`~rest_video.engine.stylizer.Stylizer`: it plans each
frame's regions (:func:`~rest_video.style.regions.plan_regions`, the plan of the last mask reused),
runs the network per frame (whole, or in bands over the memory budget) and blends the protected
region back.
"""

from __future__ import annotations

import hashlib

import numpy as np
import torch

from rest_video.core.config import MasksCfg
from rest_video.core.errors import ConfigError, ShapeError
from rest_video.core.mask_colours import colour_label
from rest_video.io.masks import as_labels
from rest_video.ops.opacity import blend
from rest_video.style import StatsFilter, StyleStats
from rest_video.style.regions import WHOLE, Regions, RegionStyle, plan_regions, protect_weight


class MaskedStylizer:
    """The masked path of one Stylizer (``st``), with the ``masks`` settings ``cfg``.

    Thread-safe: its only state is the plan of the last mask (replaced as a whole, checked by key)."""

    def __init__(self, st, cfg: MasksCfg) -> None:
        self.st = st
        self.cfg = cfg
        self._last_plan: tuple | None = None  # (key, style, plan) of the last masked frame

    def __call__(self, batch: np.ndarray, style: StyleStats | RegionStyle, strength: float,
                 stats_filter: StatsFilter | None, content_mask: np.ndarray | None,
                 protect: str | None, stats_mask: np.ndarray | None) -> np.ndarray:
        """Stylize uint8 ``batch`` ``(N, H, W, 3)`` at ``strength`` (resolved), one frame at a time
        (each frame has its own regions); see :meth:`Stylizer.stylize` for the arguments."""
        st = self.st
        n, h, w = batch.shape[:3]
        labels = (np.zeros((n, h, w), np.uint8) if content_mask is None
                  else frame_labels(content_mask, n, h, w))
        try:
            p_label = None if protect is None else colour_label(protect)
        except ValueError as e:
            raise ConfigError(f"--protect: {e}") from None
        if strength <= 0.0:
            return batch.copy()
        out = np.empty_like(batch)
        for i in range(n):
            if content_mask is None:  # no regions: one look, the whole style's
                stats, regions = (style.whole if isinstance(style, RegionStyle) else style), None
            else:
                stats, regions = self._plan(labels[i], style)
            if stats_mask is not None:
                regions = counted_only(regions, stats, stats_mask, st.device)
            out[i] = st.run_frames(batch[i:i + 1], stats, stats_filter, regions)[0]
            out[i] = st.finish(batch[i], out[i])
            if p_label is not None:
                keep = protect_weight(labels[i], p_label, self.cfg.feather)
                if keep is not None:
                    mixed = out[i].astype(np.float32)
                    mixed += keep[..., None] * (batch[i].astype(np.float32) - mixed)
                    out[i] = np.rint(mixed).astype(np.uint8)
        return blend(batch, out, strength)

    def _plan(self, labels: np.ndarray, style: StyleStats | RegionStyle):
        """:func:`plan_regions` for one frame, reused while the labels (by content hash) and the
        style object stay the same: a static mask costs its blur once, not on every frame."""
        digest = hashlib.blake2b(np.ascontiguousarray(labels).data, digest_size=16).digest()
        key = (digest, labels.shape, id(style))
        hit = self._last_plan
        if hit is not None and hit[0] == key and hit[1] is style:
            return hit[2]
        plan = plan_regions(labels, style, self.cfg.feather, self.cfg.min_region, self.st.device)
        self._last_plan = (key, style, plan)  # holds the style, so its id is not reused meanwhile
        return plan


def frame_labels(mask: np.ndarray, n: int, h: int, w: int) -> np.ndarray:
    """``(n, h, w)`` uint8 labels from a content mask given for one frame or for each."""
    mask = np.asarray(mask)
    if mask.ndim == 4 or (mask.ndim == 3 and mask.shape[-1] != 3):  # one per frame
        if mask.shape[0] != n:
            raise ShapeError(f"{mask.shape[0]} content masks for {n} frames")
        return np.stack([as_labels(mk, (w, h)) for mk in mask])
    return np.broadcast_to(as_labels(mask, (w, h)), (n, h, w))


def counted_only(regions: Regions | None, stats: StyleStats, counted: np.ndarray,
                 device: torch.device | str) -> Regions:
    """``regions`` (None: one look over the frame, ``stats``) with every slot's content statistics
    taken from its ``counted`` pixels only (a slot with none of them keeps its own); the fallback
    slot becomes a region like the others, as its statistics are no longer the whole frame's."""
    m = torch.from_numpy(np.ascontiguousarray(counted, dtype=bool)).to(device)
    if regions is None:
        return Regions(m[None], torch.ones((1, *m.shape), device=device), (stats,), (0,))
    masks = regions.masks & m
    empty = ~masks.flatten(1).any(1)
    masks[empty] = regions.masks[empty]
    free = max(k for k in regions.keys) + 1  # a label no slot uses, for the former fallback slot
    keys = tuple(free if k == WHOLE else k for k in regions.keys)
    return Regions(masks, regions.weights, regions.styles, keys)
