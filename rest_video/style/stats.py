"""Style statistics: what AdaIN needs of a style image (per-layer feature mean and std).

:class:`StyleStats` is computed once per style (``REST.style_stats``), cached on disk
(:mod:`rest_video.style.cache`) and passed to every frame; :data:`StatsFilter` is the type of a
filter of per-frame content statistics (temporal smoothing, :mod:`rest_video.stream.smoothing`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import torch
from torch import Tensor

StatsFilter = Callable[[dict[int, tuple[Tensor, Tensor]]], dict[int, tuple[Tensor, Tensor]]]


@dataclass
class StyleStats:
    """Statistics of one style image's encoder features at the stylized layers.

    ``mean[l]`` and ``std[l]`` are ``(1, C, 1, 1)`` float32; ``cov`` (optional, for WCT) holds
    ``(1, C, 1)`` means and ``(1, C, C)`` covariances per layer. Keys are 1-based layer numbers.
    """

    mean: dict[int, Tensor]
    std: dict[int, Tensor]
    cov_mean: dict[int, Tensor] = field(default_factory=dict)
    cov: dict[int, Tensor] = field(default_factory=dict)

    def to(self, device: torch.device | str) -> "StyleStats":
        mv = lambda d: {k: v.to(device) for k, v in d.items()}  # noqa: E731
        return StyleStats(mv(self.mean), mv(self.std), mv(self.cov_mean), mv(self.cov))

    def state_dict(self) -> dict[str, Tensor]:
        out: dict[str, Tensor] = {}
        for name, d in (("mean", self.mean), ("std", self.std), ("cov_mean", self.cov_mean), ("cov", self.cov)):
            for k, v in d.items():
                out[f"{name}.{k}"] = v.detach().cpu().contiguous()
        return out

    @classmethod
    def from_state_dict(cls, sd: dict[str, Tensor]) -> "StyleStats":
        parts: dict[str, dict[int, Tensor]] = {"mean": {}, "std": {}, "cov_mean": {}, "cov": {}}
        for key, v in sd.items():
            name, layer = key.rsplit(".", 1)
            parts[name][int(layer)] = v
        return cls(**parts)
