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
        for name, d in (
            ("mean", self.mean),
            ("std", self.std),
            ("cov_mean", self.cov_mean),
            ("cov", self.cov),
        ):
            for k, v in d.items():
                out[f"{name}.{k}"] = v.detach().cpu().contiguous()
        return out

    @classmethod
    def from_state_dict(cls, sd: dict[str, Tensor]) -> "StyleStats":
        """The inverse of :meth:`state_dict`; a key it does not know is a ``ValueError``."""
        parts: dict[str, dict[int, Tensor]] = {"mean": {}, "std": {}, "cov_mean": {}, "cov": {}}
        for key, v in sd.items():
            name, _, layer = key.rpartition(".")
            if name not in parts or not layer.isdigit():
                raise ValueError(f"unexpected tensor {key!r}")
            parts[name][int(layer)] = v
        return cls(**parts)

    def check(self, layers: tuple[int, ...] | None = None, channels: int | None = None,
              with_cov: bool = False) -> None:
        """Raise ``ValueError`` naming the first problem unless these statistics fit a model whose
        stylized ``layers`` have ``channels`` features each (None: whatever the statistics say):
        mean and std for exactly those layers, shaped ``(1, C, 1, 1)``, finite, std >= 0 (and, with
        ``with_cov``, finite ``(1, C, 1)`` means and ``(1, C, C)`` covariances for the same layers)."""
        want = sorted(layers) if layers is not None else sorted(self.mean)
        parts = [("mean", self.mean, (1, -1, 1, 1)), ("std", self.std, (1, -1, 1, 1))]
        if with_cov:
            parts += [("cov_mean", self.cov_mean, (1, -1, 1)), ("cov", self.cov, (1, -1, -1))]
        if not want:
            raise ValueError("no layers")
        for name, d, shape in parts:
            if sorted(d) != want:
                raise ValueError(f"{name} has layers {sorted(d)}, expected {want}")
            for layer, t in d.items():
                c = channels if channels is not None else self.mean[want[0]].shape[1]
                expected = tuple(c if n == -1 else n for n in shape)
                if not isinstance(t, Tensor) or not t.is_floating_point():
                    got = str(t.dtype).replace("torch.", "") if isinstance(t, Tensor) else type(t).__name__
                    raise ValueError(f"layer {layer} {name} is {got}, not floating point")
                if tuple(t.shape) != expected:
                    raise ValueError(f"layer {layer} {name} has shape {tuple(t.shape)}, expected {expected}")
                if not bool(torch.isfinite(t).all()):
                    raise ValueError(f"layer {layer} {name} holds non-finite values")
                if name == "std" and bool((t < 0).any()):
                    raise ValueError(f"layer {layer} std is negative")
