"""The pipeline's configuration: YAML -> frozen typed objects, validated in one place.

``load_pipeline(path, overrides)`` is the only way a pipeline configuration enters rest-video (the
training one is :func:`rest_video.train.config.load_train_config`). Unknown keys and bad values
raise :class:`ConfigError` naming the full key path (``output.crf``). Overrides are
``"dotted.key=value"`` strings (values parsed as YAML), applied before validation, so flags and files
go through the same checks (:mod:`rest_video.core.schema`). The result is frozen.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from rest_video.core.errors import ConfigError
from rest_video.core.mask_colours import colour_label
from rest_video.core.safe_yaml import read_yaml_file
from rest_video.core.schema import (
    Bounds,
    apply_overrides,
    bounded,
    build,
    check_bounds,
    parse_override,
    to_dict,
)
from rest_video.resources import PipelineNotFound, resolve_pipeline

__all__ = [
    "MAX_FEATHER",
    "MAX_LAYERS",
    "MAX_MEMORY_MB",
    "MAX_QUEUE",
    "MAX_SIDE",
    "MAX_THREADS",
    "MAX_WIDTH",
    "STRENGTH",
    "LiveCfg",
    "MasksCfg",
    "ModelCfg",
    "OutputCfg",
    "PipelineConfig",
    "RuntimeCfg",
    "StyleCfg",
    "TemporalCfg",
    "check_masks_method",
    "check_strength",
    "load_pipeline",
    "parse_override",
    "read_config_yaml",
    "to_dict",
]

MAX_THREADS = 256          # runtime.threads / threads: more than any machine this runs on has cores
MAX_QUEUE = 64             # runtime.queue_size: frames held per queue (two queues) in file mode
MAX_MEMORY_MB = 1 << 20    # runtime.max_memory_mb: 1 TiB, more than any machine's memory
MAX_SIDE = 8192            # style.max_side, live.size, live.fit_side, data.crop: pixels per side
MAX_WIDTH = 256            # model width (channels per layer); the shipped model has 16
MAX_LAYERS = 16            # model layers; the shipped model has 5
MAX_FEATHER = 256.0        # masks.feather: pixels

STRENGTH = Bounds(ge=0.0, le=1.0)
"""0 = the content, 1 = the full style: ``style.strength``, ``--strength`` and live mode's keys."""
THREADS = Bounds(ge=0, le=MAX_THREADS, note="0 = torch's default")
SIDE = Bounds(ge=16, le=MAX_SIDE)


def check_masks_method(method: str) -> None:
    """Masks (per-region statistics) exist for AdaIN only: a :class:`ConfigError` for any other method."""
    if method != "adain":
        raise ConfigError("masks work with AdaIN only (--method wct has no per-region form)")


def check_strength(value: float, name: str = "strength") -> float:
    """``value`` as a float when it is in [0, 1] (0 = content, 1 = full style), else a
    :class:`ConfigError`."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a number in [0, 1], got {value!r}") from None
    STRENGTH.check(name, v)
    return v


@dataclass(frozen=True)
class ModelCfg:
    name: str = "rest_16x5"          # registered model name
    checkpoint: str | None = None     # a .safetensors / training .pt file instead of the shipped weights
    method: Literal["adain", "wct"] = "adain"


@dataclass(frozen=True)
class StyleCfg:
    strength: float = bounded(
        1.0, STRENGTH
    )  # the look's opacity over the input: 0 = the input, 1 = the full look
    cache: bool = True                # keep style statistics on disk
    max_side: int = bounded(1024, SIDE)  # style image is resized so its long side is at most this
    keep_shadows: bool = True  # the shadow guard: a dark look keeps the shadows' detail (ops/shadows.py)

    def __post_init__(self) -> None:
        check_bounds(self, "style")


@dataclass(frozen=True)
class RuntimeCfg:
    device: Literal["auto", "cpu", "cuda"] = "auto"
    # auto: fp16 on CUDA; on a CPU rest_video.engine.precision decides; int8: CPU only
    precision: Literal["auto", "fp32", "fp16", "bf16", "int8"] = "auto"
    optimized: bool = True            # use the folded inference form of the network
    threads: int = bounded(0, THREADS)  # CPU threads for torch (0 = torch's default)
    # the network on every frame, or a 3D LUT fitted to it (file, batch and live mode; auto: full
    # where it keeps up, README "Speed")
    path: Literal["auto", "full", "lut"] = "auto"
    queue_size: int = bounded(8, ge=1, le=MAX_QUEUE)  # frames buffered between pipeline stages
    # working memory of one stylize call (device memory on CUDA); larger frames run in tiles, with
    # the same output
    max_memory_mb: int = bounded(4096, ge=1, le=MAX_MEMORY_MB, note="megabytes")

    def __post_init__(self) -> None:
        check_bounds(self, "runtime")


@dataclass(frozen=True)
class TemporalCfg:
    smoothing: float = bounded(0.9, ge=0.0, lt=1.0)  # EMA factor for content statistics (0 = per frame)
    scene_cut: float = bounded(
        0.25, gt=0.0, le=1.0
    )  # mean abs frame difference (0..1) resetting the smoothing
    # EMA factor for output pixels whose input window stood still (0 = off)
    pixel_smoothing: float = bounded(0.93, ge=0.0, lt=1.0)
    still: float = 4.0                # local mean input change (levels) up to which a pixel counts as still
    moving: float = 16.0              # local mean input change (levels) from which a pixel counts as moving
    # held output stays within this many levels of the current frame's (255 = no bound)
    hold_limit: float = bounded(6.0, gt=0.0, le=255.0)
    # Gaussian (px) over the output's colour, not its brightness (0 = off)
    chroma_sigma: float = bounded(1.0, ge=0.0, le=10.0)

    def __post_init__(self) -> None:
        check_bounds(self, "temporal")
        if not 0.0 <= self.still < self.moving <= 255.0:
            raise ConfigError(f"temporal.still and temporal.moving need 0 <= still < moving <= 255, "
                              f"got {self.still} and {self.moving}")


@dataclass(frozen=True)
class OutputCfg:
    codec: str = "auto"               # auto: VP9 in .webm, H.264 in .mp4/.mkv/.mov (rest_video.io.containers)
    crf: int = bounded(18, ge=0, le=63)
    preset: str = "medium"
    pix_fmt: str = "auto"             # auto: 4:2:0 at the input's bit depth (rest_video.io.containers)
    container_options: dict[str, str] = field(default_factory=lambda: {"movflags": "+faststart"})
    audio: Literal["copy", "reencode", "drop"] = "copy"
    image_quality: int = bounded(95, ge=1, le=100)  # JPEG / WebP quality in image mode
    sdr: bool = False                 # an HDR (PQ/HLG) input: an SDR BT.709 output (default: HDR)

    def __post_init__(self) -> None:
        check_bounds(self, "output")


@dataclass(frozen=True)
class LiveCfg:
    # the LUT path (runtime.path: lut), file and live mode: lattice points per axis
    lut_size: int = bounded(33, ge=2, le=129)
    refit_every: int = bounded(30, ge=1)  # frames between LUT refits at most (also on scene cuts and drift)
    fit_side: int = bounded(384, SIDE)  # long side of the frame the full model runs on to fit the LUT
    # mean colour change (0..1, small thumbnail) since the last fit that refits
    drift: float = bounded(0.03, gt=0.0, le=1.0)
    # frames over which a refitted LUT blends in (0: at once; cuts: at once)
    fade: int = bounded(3, ge=0, le=1000, unit="frames")
    # add the local-contrast term fitted with each LUT (ops/detail.py): closer to the network, more CPU
    detail: bool = True
    size: tuple[int, int] | None = bounded(None, ge=16, le=MAX_SIDE, each="width and height")
    # camera: the rate to request (None: 30); a file: playback rate (None: its own)
    fps: float | None = bounded(None, gt=0.0, le=1000.0)

    def __post_init__(self) -> None:
        check_bounds(self, "live")


@dataclass(frozen=True)
class MasksCfg:
    # px over which region borders blend (Gaussian, sigma = feather / 2; 0 = hard)
    feather: float = bounded(8.0, ge=0.0, le=MAX_FEATHER, unit="pixels")
    # style (and content) regions with fewer pixels use the whole image's statistics
    min_region: int = bounded(1024, ge=1, le=1 << 30, unit="pixels")
    protect: str | None = None        # a mask colour whose region keeps its original look (strength 0 there)

    def __post_init__(self) -> None:
        check_bounds(self, "masks")
        if self.protect is not None:
            try:
                colour_label(self.protect)
            except ValueError as e:
                raise ConfigError(f"masks.protect: {e}") from None


@dataclass(frozen=True)
class PipelineConfig:
    model: ModelCfg = field(default_factory=ModelCfg)
    style: StyleCfg = field(default_factory=StyleCfg)
    runtime: RuntimeCfg = field(default_factory=RuntimeCfg)
    temporal: TemporalCfg = field(default_factory=TemporalCfg)
    output: OutputCfg = field(default_factory=OutputCfg)
    live: LiveCfg = field(default_factory=LiveCfg)
    masks: MasksCfg = field(default_factory=MasksCfg)

    def with_precision(self, precision: str) -> PipelineConfig:
        """The same configuration computing in ``precision`` (``runtime.precision``)."""
        return dataclasses.replace(self, runtime=dataclasses.replace(self.runtime, precision=precision))


def load_pipeline(
    path: str | Path | None = None, overrides: list[str] | dict | None = None
) -> PipelineConfig:
    """Read a pipeline YAML into a :class:`PipelineConfig`, then apply ``overrides``.

    With no ``path`` the dataclass defaults are used; ``pipelines/default.yaml`` spells out exactly
    those values (a test keeps the two equal), so the package works without the YAML files."""
    data = read_config_yaml(path) if path is not None else {}
    return build(PipelineConfig, _renamed_keys(apply_overrides(data, overrides)))


def _renamed_keys(data: dict) -> dict:
    """Keys that moved, accepted under their old names: ``live.path`` is ``runtime.path`` (file mode
    has the LUT path too); the two given with different values is an error."""
    live = data.get("live")
    if isinstance(live, dict) and "path" in live:
        old = live.pop("path")
        runtime = data.setdefault("runtime", {})
        if not isinstance(runtime, dict):
            raise ConfigError("runtime: expected a mapping")
        if runtime.get("path", old) != old:
            raise ConfigError(f"live.path ({old}) and runtime.path ({runtime['path']}) disagree: "
                              "live.path is the old name of runtime.path, give one")
        runtime["path"] = old
    return data


def read_config_yaml(path: str | Path) -> dict:
    """The mapping in config file ``path``, or in a shipped pipeline by that name (``fast-preview``)."""
    try:
        p = resolve_pipeline(path)
    except PipelineNotFound as e:
        raise ConfigError(str(e)) from None
    data = read_yaml_file(p)    # bounded: no anchors / aliases, size and depth limits, UTF-8 text
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{p}: top level must be a mapping of sections")
    return data
