"""Mask-guided stylization: the style's per-region statistics (:class:`RegionStyle`) and, per
content frame, which region each pixel takes its look from (:func:`plan_regions` -> :class:`Regions`).

Rules (README, "Masks"):

- a label present in both masks: the content pixels of that label use the content statistics inside
  their region and the style statistics inside the style's region of the same label;
- a label present only in the content mask, or whose style region (or content region) has fewer
  than ``min_region`` pixels (too few for stable statistics), falls back to what an unmasked run
  does there: the whole frame's content statistics and the whole style's statistics;
- borders blend the regions' affine maps over ``feather`` pixels.

When every content pixel ends up in one region that is the whole frame (for example equal masks
covering both images), the plan is "no regions" and the network runs its unmasked path: the output
is the unmasked output, bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from rest_video.ops.masked_adain import feather_weights
from rest_video.style.stats import StyleStats

WHOLE = -1
"""The key of the fallback slot: whole-frame content statistics, whole-style statistics."""


@dataclass
class RegionStyle:
    """Statistics of a style image (``whole``) and of each label of its mask (``regions``), with
    the pixel count of every label (``pixels``) and of the image (``total``)."""

    whole: StyleStats
    regions: dict[int, StyleStats]
    pixels: dict[int, int]
    total: int

    def to(self, device: torch.device | str) -> "RegionStyle":
        return RegionStyle(self.whole.to(device), {k: v.to(device) for k, v in self.regions.items()},
                           dict(self.pixels), self.total)

    def state_dict(self) -> dict[str, Tensor]:
        out = {f"whole.{k}": v for k, v in self.whole.state_dict().items()}
        for label, st in self.regions.items():
            out.update({f"region{label}.{k}": v for k, v in st.state_dict().items()})
        labels = sorted(self.regions)
        out["pixels"] = torch.tensor([[lab, self.pixels[lab]] for lab in labels] + [[WHOLE, self.total]],
                                     dtype=torch.int64)
        return out

    @classmethod
    def from_state_dict(cls, sd: dict[str, Tensor]) -> "RegionStyle":
        """The inverse of :meth:`state_dict` (``ValueError`` on anything else)."""
        if "pixels" not in sd:
            raise ValueError("no pixel counts")
        parts: dict[str, dict[str, Tensor]] = {}
        for key, v in sd.items():
            if key == "pixels":
                continue
            head, _, rest = key.partition(".")
            if head != "whole" and not (head.startswith("region") and head[6:].isdigit()):
                raise ValueError(f"unexpected tensor {key!r}")
            parts.setdefault(head, {})[rest] = v
        if "whole" not in parts:
            raise ValueError("no whole-image statistics")
        counts = {int(a): int(b) for a, b in sd["pixels"].tolist()}
        regions = {int(h[6:]): StyleStats.from_state_dict(d) for h, d in parts.items() if h != "whole"}
        if sorted(regions) != sorted(k for k in counts if k != WHOLE) or WHOLE not in counts:
            raise ValueError("pixel counts do not match the regions")
        return cls(StyleStats.from_state_dict(parts["whole"]), regions,
                   {k: v for k, v in counts.items() if k != WHOLE}, counts[WHOLE])

    def check(self, layers: tuple[int, ...] | None = None, channels: int | None = None) -> None:
        """``ValueError`` unless every part fits the model (:meth:`StyleStats.check`)."""
        self.whole.check(layers, channels)
        for label, st in self.regions.items():
            try:
                st.check(layers, channels)
            except ValueError as e:
                raise ValueError(f"region {label}: {e}") from None


@dataclass(frozen=True)
class Regions:
    """One content frame's regions as the network uses them.

    ``masks`` ``(K, H, W)`` bool: each slot's content pixels (its statistics); ``weights``
    ``(K, H, W)`` float32: each slot's share of a pixel's affine map (one-hot, or feathered);
    ``styles``: each slot's style statistics; ``keys``: each slot's label, :data:`WHOLE` for the
    fallback slot, whose content statistics are the whole frame's. Statistics filters see a
    region's statistics under ``(layer, label)`` and the whole frame's under ``layer``.
    """

    masks: Tensor
    weights: Tensor
    styles: tuple[StyleStats, ...]
    keys: tuple[int, ...]

    def band(self, y0: int, y1: int) -> "Regions":
        """The same regions cut to rows ``[y0, y1)`` (tiled inference)."""
        return Regions(self.masks[:, y0:y1], self.weights[:, y0:y1], self.styles, self.keys)


def plan_regions(labels: np.ndarray, style: RegionStyle | StyleStats, feather: float, min_region: int,
                 device: torch.device | str = "cpu") -> tuple[StyleStats, Regions | None]:
    """Which region each pixel of a content frame takes its look from.

    Args:
        labels: ``(H, W)`` uint8 content labels.
        style: the style's :class:`RegionStyle` (a plain :class:`StyleStats`: every label falls back).
        feather: border blending in pixels (0: hard borders).
        min_region: fewest pixels a style or content region needs to keep its own statistics.

    Returns:
        ``(stats, regions)``: ``regions`` None means one look for the whole frame, the unmasked
        run with ``stats``; otherwise ``stats`` is the whole style's.
    """
    whole = style.whole if isinstance(style, RegionStyle) else style
    present, counts = np.unique(labels, return_counts=True)
    own = []
    for lab, n in zip(present.tolist(), counts.tolist(), strict=False):
        if (isinstance(style, RegionStyle) and lab in style.regions and style.pixels[lab] >= min_region
                and n >= min_region):
            own.append(lab)
    fallback = [lab for lab in present.tolist() if lab not in own]
    if not own:
        return whole, None
    if (
        not fallback and len(own) == 1
    ):  # one region covering the whole frame: its content statistics are the frame's
        return style.regions[own[0]], None
    t = torch.from_numpy(np.array(labels, dtype=np.uint8)).to(
        device
    )  # a copy: labels may be a read-only view
    masks, keys, styles = [], [], []
    if fallback:
        masks.append(torch.isin(t, torch.tensor(fallback, device=t.device, dtype=t.dtype)))
        keys.append(WHOLE)
        styles.append(whole)
    for lab in own:
        masks.append(t == lab)
        keys.append(lab)
        styles.append(style.regions[lab])
    m = torch.stack(masks)
    return whole, Regions(m, feather_weights(m.float(), feather), tuple(styles), tuple(keys))


def protect_weight(labels: np.ndarray, label: int, feather: float) -> np.ndarray | None:
    """``(H, W)`` float32 share of the original pixel in the output for a protected ``label``
    (1 inside its region, blending out over ``feather`` pixels); None when the label is absent."""
    inside = labels == label
    if not inside.any():
        return None
    w = torch.from_numpy(np.stack([inside, ~inside]).astype(np.float32))
    return feather_weights(w, feather)[0].numpy()
