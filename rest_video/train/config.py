"""The training configuration: YAML -> a frozen :class:`TrainConfig`, checked as the pipeline's is
(:mod:`rest_video.core.schema`: unknown keys and bad values name the full key path)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from rest_video.core.config import MAX_LAYERS, MAX_WIDTH, SIDE, THREADS, read_config_yaml
from rest_video.core.errors import ConfigError
from rest_video.core.schema import apply_overrides, bounded, build, check_bounds

__all__ = ["ArchCfg", "DataCfg", "LossCfg", "TeacherCfg", "TrainConfig", "load_train_config"]

WEIGHT = {"ge": 0.0}                                # a loss term's weight (0 = off)
LAYER_WEIGHTS = {"ge": 0.0, "length": 5, "each": "weights"}  # one weight >= 0 per teacher layer


@dataclass(frozen=True)
class TeacherCfg:
    kind: Literal["vgg16-lpips", "vgg19"] = "vgg16-lpips"
    path: str | None = None           # None: vgg16.ckpt in the user cache (rest-video fetch-teacher)


@dataclass(frozen=True)
class DataCfg:
    folders: tuple[str, ...] = ()
    crop: int = bounded(192, SIDE)
    min_side: int = bounded(256, SIDE)  # images are resized so the short side is at least this
    # probability that a style crop gets a random photographic grade
    style_augment: float = bounded(0.0, ge=0.0, le=1.0)

    def __post_init__(self) -> None:
        check_bounds(self, "data")


@dataclass(frozen=True)
class LossCfg:
    content: float = 1.0
    style: float = 1.0
    distill: float = 2.0
    content_layer: int = 4
    distill_layers: tuple[int, ...] = (3, 4, 5)
    # weight of each teacher layer's mean/std term
    style_layers: tuple[float, ...] = bounded((1.0, 1.0, 1.0, 1.0, 1.0), **LAYER_WEIGHTS)
    color: float = bounded(0.0, **WEIGHT)  # the Lab sliced Wasserstein colour term
    # what the content term compares with: the content photo (paper), or the content moved to the
    # style's Lab mean/std first, so the content term keeps the structure but not the colours
    content_target: Literal["content", "color-matched"] = "content"
    # the identity term: content stylized with itself decodes back to the content (mean abs error,
    # 8-bit levels)
    identity: float = bounded(0.0, **WEIGHT)
    # the tone term: the output, 8x8-averaged in Lab, follows the content moved to the style's Lab
    # mean/std (mean abs error, Lab units)
    tone: float = bounded(0.0, **WEIGHT)
    # a Gram term: sum over layers of ||G(out) - G(style)||_F^2, G = F F^T / (C H W), the eval's Gram
    # loss measured on the batch
    gram: float = bounded(0.0, **WEIGHT)
    gram_layers: tuple[float, ...] = bounded((1.0, 1.0, 1.0, 1.0, 1.0), **LAYER_WEIGHTS)  # in the Gram term
    # the flicker ratio of a one-pixel pan (output change over input change between neighbouring
    # pixels): what motion flickers with
    flicker: float = bounded(0.0, **WEIGHT)
    # measure it on flicker_scale x flicker_scale-averaged copies (1 = pixels)
    flicker_scale: int = bounded(1, ge=1, le=16)

    def __post_init__(self) -> None:
        check_bounds(self, "loss")


@dataclass(frozen=True)
class ArchCfg:
    layers: int = bounded(5, ge=2, le=MAX_LAYERS)
    width: int = bounded(16, ge=1, le=MAX_WIDTH)
    stylized: tuple[int, ...] = (3, 4, 5)
    variant: Literal["rest", "aest"] = "rest"

    def __post_init__(self) -> None:
        check_bounds(self, "arch")


@dataclass(frozen=True)
class TrainConfig:
    out_dir: str = "runs/rest"
    steps: int = bounded(3000, ge=1)
    batch: int = bounded(4, ge=1)
    lr: float = bounded(1e-3, gt=0.0)
    seed: int = 0
    threads: int = bounded(0, THREADS)
    checkpoint_every: int = bounded(100, ge=1)
    keep_every: int = bounded(0, ge=0)  # also keep a copy step_N.pt every N steps (0 = never)
    log_every: int = bounded(10, ge=1)
    init: str | None = None           # start from these weights (.safetensors or .pt) instead of random
    # BatchNorm in training: batch statistics (paper) or the running ones inference uses
    # (fine-tuning; see MODEL_CARD)
    bn: Literal["batch", "frozen"] = "batch"
    # decay of an exponential moving average of the weights, exported as the result when > 0
    # (0 = off; 0.99 averages ~the last 100 steps)
    ema: float = bounded(0.0, ge=0.0, lt=1.0)
    arch: ArchCfg = field(default_factory=ArchCfg)
    teacher: TeacherCfg = field(default_factory=TeacherCfg)
    data: DataCfg = field(default_factory=DataCfg)
    loss: LossCfg = field(default_factory=LossCfg)

    def __post_init__(self) -> None:
        check_bounds(self)
        if self.bn not in ("batch", "frozen"):
            raise ConfigError(f"bn must be 'batch' or 'frozen', got {self.bn!r}")


def load_train_config(path: str | Path, overrides: list[str] | dict | None = None) -> TrainConfig:
    """Read a training YAML (a file, or the shipped ``train`` pipeline) into a :class:`TrainConfig`."""
    return build(TrainConfig, apply_overrides(read_config_yaml(path), overrides))
