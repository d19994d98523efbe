"""YAML -> frozen typed configuration objects, validated in one place.

``load_pipeline(path, overrides)`` and ``load_train_config(path, overrides)`` are the only ways
configuration enters rest-video. Unknown keys and bad values raise :class:`ConfigError` naming the
full key path (``output.crf``). Overrides are ``"dotted.key=value"`` strings (values parsed as YAML),
applied before validation, so flags and files go through the same checks. The result is frozen.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal, get_args, get_origin, get_type_hints

import yaml

from rest_video.core.errors import ConfigError
from rest_video.core.safe_yaml import parse_yaml, read_yaml_file

MAX_THREADS = 256          # runtime.threads / threads: more than any machine this runs on has cores
MAX_QUEUE = 64             # runtime.queue_size: frames held per queue (two queues) in file mode
MAX_MEMORY_MB = 1 << 20    # runtime.max_memory_mb: 1 TiB, more than any machine's memory
MAX_SIDE = 8192            # style.max_side, live.size, live.fit_side, data.crop: pixels per side
MAX_WIDTH = 256            # model width (channels per layer); the shipped model has 16
MAX_LAYERS = 16            # model layers; the shipped model has 5
MAX_FEATHER = 256.0        # masks.feather: pixels


# --------------------------------------------------------------------------- pipeline
def check_strength(value: float, name: str = "strength") -> float:
    """``value`` as a float when it is in [0, 1] (0 = content, 1 = full style), else a :class:`ConfigError`."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a number in [0, 1], got {value!r}") from None
    if not 0.0 <= v <= 1.0:
        raise ConfigError(f"{name} must be in [0, 1], got {value}")
    return v


@dataclass(frozen=True)
class ModelCfg:
    name: str = "rest_16x5"          # registered model name
    checkpoint: str | None = None     # a .safetensors / training .pt file instead of the shipped weights
    method: Literal["adain", "wct"] = "adain"


@dataclass(frozen=True)
class StyleCfg:
    strength: float = 1.0             # the look's opacity over the input: 0 = the input, 1 = the full look
    cache: bool = True                # keep style statistics on disk
    max_side: int = 1024              # style image is resized so its long side is at most this
    keep_shadows: bool = True         # the shadow guard: a dark look keeps the shadows' detail (ops/shadows.py)

    def __post_init__(self) -> None:
        check_strength(self.strength, "style.strength")
        if not 16 <= self.max_side <= MAX_SIDE:
            raise ConfigError(f"style.max_side must be in 16..{MAX_SIDE}, got {self.max_side}")


@dataclass(frozen=True)
class RuntimeCfg:
    device: Literal["auto", "cpu", "cuda"] = "auto"
    precision: Literal["auto", "fp32", "fp16", "bf16", "int8"] = "auto"   # auto: fp16 on CUDA; CPU: rest_video.engine.precision; int8: CPU only
    optimized: bool = True            # use the folded inference form of the network
    threads: int = 0                  # CPU threads for torch (0 = torch's default)
    path: Literal["auto", "full", "lut"] = "auto"  # the network on every frame, or a 3D LUT fitted to it (file,
    #                                   batch and live mode; auto: full where it keeps up, README "Speed")
    queue_size: int = 8               # frames buffered between pipeline stages
    max_memory_mb: int = 4096         # working memory of one stylize call (device memory on CUDA);
    #                                   larger frames run in tiles, with the same output

    def __post_init__(self) -> None:
        if not 0 <= self.threads <= MAX_THREADS:
            raise ConfigError(f"runtime.threads must be in 0..{MAX_THREADS} (0 = torch's default), got {self.threads}")
        if not 1 <= self.max_memory_mb <= MAX_MEMORY_MB:
            raise ConfigError(f"runtime.max_memory_mb must be in 1..{MAX_MEMORY_MB} (megabytes), got {self.max_memory_mb}")
        if not 1 <= self.queue_size <= MAX_QUEUE:
            raise ConfigError(f"runtime.queue_size must be in 1..{MAX_QUEUE}, got {self.queue_size}")


@dataclass(frozen=True)
class TemporalCfg:
    smoothing: float = 0.9            # EMA factor for content statistics (0 = per-frame statistics)
    scene_cut: float = 0.25           # mean abs frame difference (0..1) that resets the smoothing
    pixel_smoothing: float = 0.93     # EMA factor for output pixels whose input window stood still (0 = off)
    still: float = 4.0                # local mean input change (levels) up to which a pixel counts as still
    moving: float = 16.0              # local mean input change (levels) from which a pixel counts as moving
    hold_limit: float = 6.0           # held output stays within this many levels of the current frame's (255 = no bound)
    chroma_sigma: float = 1.0         # Gaussian (px) over the output's colour, not its brightness (0 = off)

    def __post_init__(self) -> None:
        if not 0.0 <= self.smoothing < 1.0:
            raise ConfigError(f"temporal.smoothing must be in [0, 1), got {self.smoothing}")
        if not 0.0 <= self.pixel_smoothing < 1.0:
            raise ConfigError(f"temporal.pixel_smoothing must be in [0, 1), got {self.pixel_smoothing}")
        if not 0.0 <= self.still < self.moving <= 255.0:
            raise ConfigError(f"temporal.still and temporal.moving need 0 <= still < moving <= 255, "
                              f"got {self.still} and {self.moving}")
        if not 0.0 <= self.chroma_sigma <= 10.0:
            raise ConfigError(f"temporal.chroma_sigma must be in [0, 10], got {self.chroma_sigma}")
        if not 0.0 < self.hold_limit <= 255.0:
            raise ConfigError(f"temporal.hold_limit must be in (0, 255], got {self.hold_limit}")
        if not 0.0 < self.scene_cut <= 1.0:
            raise ConfigError(f"temporal.scene_cut must be in (0, 1], got {self.scene_cut}")


@dataclass(frozen=True)
class OutputCfg:
    codec: str = "auto"               # auto: VP9 in .webm, H.264 in .mp4/.mkv/.mov (rest_video.io.containers)
    crf: int = 18
    preset: str = "medium"
    pix_fmt: str = "auto"             # auto: 4:2:0 at the input's bit depth (rest_video.io.containers)
    container_options: dict[str, str] = field(default_factory=lambda: {"movflags": "+faststart"})
    audio: Literal["copy", "reencode", "drop"] = "copy"
    image_quality: int = 95           # JPEG / WebP quality in image mode
    sdr: bool = False                 # an HDR (PQ/HLG) input: an SDR BT.709 output (default: HDR)

    def __post_init__(self) -> None:
        if not 0 <= self.crf <= 63:
            raise ConfigError(f"output.crf must be in 0..63, got {self.crf}")
        if not 1 <= self.image_quality <= 100:
            raise ConfigError(f"output.image_quality must be in 1..100, got {self.image_quality}")


@dataclass(frozen=True)
class LiveCfg:
    lut_size: int = 33                # the LUT path (runtime.path: lut), file and live mode: lattice points per axis
    refit_every: int = 15             # frames between LUT refits at most (also on scene cuts and drift)
    fit_side: int = 384               # long side of the frame the full model runs on to fit the LUT
    drift: float = 0.03               # mean colour change (0..1, small thumbnail) since the last fit that refits
    fade: int = 3                     # frames over which a refitted LUT blends in (0: at once; cuts: at once)
    size: tuple[int, int] | None = None
    fps: float | None = None          # camera: the rate to request (None: 30); a file: playback rate (None: its own)

    def __post_init__(self) -> None:
        if not 2 <= self.lut_size <= 129:
            raise ConfigError(f"live.lut_size must be in 2..129, got {self.lut_size}")
        if self.refit_every < 1:
            raise ConfigError(f"live.refit_every must be >= 1, got {self.refit_every}")
        if not 16 <= self.fit_side <= MAX_SIDE:
            raise ConfigError(f"live.fit_side must be in 16..{MAX_SIDE}, got {self.fit_side}")
        if not 0.0 < self.drift <= 1.0:
            raise ConfigError(f"live.drift must be in (0, 1], got {self.drift}")
        if not 0 <= self.fade <= 1000:
            raise ConfigError(f"live.fade must be in 0..1000 frames, got {self.fade}")
        if self.size is not None and not all(16 <= v <= MAX_SIDE for v in self.size):
            raise ConfigError(f"live.size: width and height must be in 16..{MAX_SIDE}, got {list(self.size)}")
        if self.fps is not None and not 0 < self.fps <= 1000:
            raise ConfigError(f"live.fps must be in (0, 1000], got {self.fps}")


@dataclass(frozen=True)
class MasksCfg:
    feather: float = 8.0              # px over which region borders blend (Gaussian, sigma = feather / 2; 0 = hard)
    min_region: int = 1024            # style (and content) regions with fewer pixels use the whole image's statistics
    protect: str | None = None        # a mask colour whose region keeps its original look (strength 0 there)

    def __post_init__(self) -> None:
        if not 0.0 <= self.feather <= MAX_FEATHER:
            raise ConfigError(f"masks.feather must be in [0, {MAX_FEATHER:g}] pixels, got {self.feather}")
        if not 1 <= self.min_region <= 1 << 30:
            raise ConfigError(f"masks.min_region must be in 1..{1 << 30} pixels, got {self.min_region}")
        if self.protect is not None:
            from rest_video.io.mask_colours import colour_label

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

    def with_precision(self, precision: str) -> "PipelineConfig":
        """The same configuration computing in ``precision`` (``runtime.precision``)."""
        return dataclasses.replace(self, runtime=dataclasses.replace(self.runtime, precision=precision))


# --------------------------------------------------------------------------- training
@dataclass(frozen=True)
class TeacherCfg:
    kind: Literal["vgg16-lpips", "vgg19"] = "vgg16-lpips"
    path: str | None = None           # None: vgg16.ckpt in the user cache (rest-video fetch-teacher)


@dataclass(frozen=True)
class DataCfg:
    folders: tuple[str, ...] = ()
    crop: int = 192
    min_side: int = 256               # images are resized so the short side is at least this
    style_augment: float = 0.0        # probability that a style crop gets a random photographic grade

    def __post_init__(self) -> None:
        if not 16 <= self.crop <= MAX_SIDE:
            raise ConfigError(f"data.crop must be in 16..{MAX_SIDE}, got {self.crop}")
        if not 16 <= self.min_side <= MAX_SIDE:
            raise ConfigError(f"data.min_side must be in 16..{MAX_SIDE}, got {self.min_side}")
        if not 0.0 <= self.style_augment <= 1.0:
            raise ConfigError(f"data.style_augment must be in [0, 1], got {self.style_augment}")


@dataclass(frozen=True)
class LossCfg:
    content: float = 1.0
    style: float = 1.0
    distill: float = 2.0
    content_layer: int = 4
    distill_layers: tuple[int, ...] = (3, 4, 5)
    style_layers: tuple[float, ...] = (1.0, 1.0, 1.0, 1.0, 1.0)  # weight of each teacher layer's mean/std term
    color: float = 0.0                # weight of the Lab sliced Wasserstein colour term (0 = off)
    content_target: Literal["content", "color-matched"] = "content"  # what the content term compares
    #                   with: the content photo (paper), or the content moved to the style's Lab
    #                   mean/std first, so the content term keeps the structure but not the colours
    identity: float = 0.0             # weight of the identity term: content stylized with itself
    #                                   decodes back to the content (mean abs error, 8-bit levels)
    tone: float = 0.0                 # weight of the tone term: the output, 8x8-averaged in Lab, follows the
    #                                   content moved to the style's Lab mean/std (mean abs error, Lab units)
    gram: float = 0.0                 # weight of a Gram term: sum over layers of ||G(out) - G(style)||_F^2,
    #                                   G = F F^T / (C H W), the eval's Gram loss measured on the batch
    gram_layers: tuple[float, ...] = (1.0, 1.0, 1.0, 1.0, 1.0)  # weight of each teacher layer in it
    flicker: float = 0.0              # weight of the flicker ratio of a one-pixel pan (output change over
    #                                   input change between neighbouring pixels): what motion flickers with
    flicker_scale: int = 1            # measure it on flicker_scale x flicker_scale-averaged copies (1 = pixels)

    def __post_init__(self) -> None:
        if len(self.gram_layers) != 5 or any(w < 0 for w in self.gram_layers):
            raise ConfigError(f"loss.gram_layers must be 5 weights >= 0, got {list(self.gram_layers)}")
        if self.gram < 0:
            raise ConfigError(f"loss.gram must be >= 0, got {self.gram}")
        if self.flicker < 0:
            raise ConfigError(f"loss.flicker must be >= 0, got {self.flicker}")
        if not 1 <= self.flicker_scale <= 16:
            raise ConfigError(f"loss.flicker_scale must be in 1..16, got {self.flicker_scale}")
        if len(self.style_layers) != 5 or any(w < 0 for w in self.style_layers):
            raise ConfigError(f"loss.style_layers must be 5 weights >= 0, got {list(self.style_layers)}")
        if self.color < 0:
            raise ConfigError(f"loss.color must be >= 0, got {self.color}")
        if self.identity < 0:
            raise ConfigError(f"loss.identity must be >= 0, got {self.identity}")
        if self.tone < 0:
            raise ConfigError(f"loss.tone must be >= 0, got {self.tone}")


@dataclass(frozen=True)
class ArchCfg:
    layers: int = 5
    width: int = 16
    stylized: tuple[int, ...] = (3, 4, 5)
    variant: Literal["rest", "aest"] = "rest"

    def __post_init__(self) -> None:
        if not 2 <= self.layers <= MAX_LAYERS:
            raise ConfigError(f"arch.layers must be in 2..{MAX_LAYERS}, got {self.layers}")
        if not 1 <= self.width <= MAX_WIDTH:
            raise ConfigError(f"arch.width must be in 1..{MAX_WIDTH}, got {self.width}")


@dataclass(frozen=True)
class TrainConfig:
    out_dir: str = "runs/rest"
    steps: int = 3000
    batch: int = 4
    lr: float = 1e-3
    seed: int = 0
    threads: int = 0
    checkpoint_every: int = 100
    keep_every: int = 0               # also keep a copy step_N.pt every N steps (0 = never)
    log_every: int = 10
    init: str | None = None           # start from these weights (.safetensors or .pt) instead of random
    bn: Literal["batch", "frozen"] = "batch"  # BatchNorm in training: batch statistics (paper) or the
    #                                          running ones inference uses (fine-tuning; see MODEL_CARD)
    ema: float = 0.0                  # decay of an exponential moving average of the weights, exported
    #                                   as the result when > 0 (0 = off; 0.99 averages ~the last 100 steps)
    arch: ArchCfg = field(default_factory=ArchCfg)
    teacher: TeacherCfg = field(default_factory=TeacherCfg)
    data: DataCfg = field(default_factory=DataCfg)
    loss: LossCfg = field(default_factory=LossCfg)

    def __post_init__(self) -> None:
        if self.steps < 1 or self.batch < 1 or not self.lr > 0:
            raise ConfigError("steps, batch and lr must be positive")
        if not 0 <= self.threads <= MAX_THREADS:
            raise ConfigError(f"threads must be in 0..{MAX_THREADS} (0 = torch's default), got {self.threads}")
        if self.checkpoint_every < 1 or self.log_every < 1 or self.keep_every < 0:
            raise ConfigError("checkpoint_every and log_every must be >= 1, keep_every >= 0")
        if not 0.0 <= self.ema < 1.0:
            raise ConfigError(f"ema must be in [0, 1), got {self.ema}")
        if self.bn not in ("batch", "frozen"):
            raise ConfigError(f"bn must be 'batch' or 'frozen', got {self.bn!r}")


# --------------------------------------------------------------------------- loading
def load_pipeline(path: str | Path | None = None, overrides: list[str] | dict | None = None) -> PipelineConfig:
    """Read a pipeline YAML into a :class:`PipelineConfig`, then apply ``overrides``.

    With no ``path`` the dataclass defaults are used; ``pipelines/default.yaml`` spells out exactly
    those values (a test keeps the two equal), so the package works without the YAML files."""
    data = _read_yaml(path) if path is not None else {}
    return build(PipelineConfig, _renamed_keys(_apply_overrides(data, overrides)))


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


def load_train_config(path: str | Path, overrides: list[str] | dict | None = None) -> TrainConfig:
    """Read a training YAML into a :class:`TrainConfig`."""
    return build(TrainConfig, _apply_overrides(_read_yaml(path), overrides))


def to_dict(cfg: Any) -> Any:
    """A config object as plain YAML-able data."""
    if dataclasses.is_dataclass(cfg):
        return {f.name: to_dict(getattr(cfg, f.name)) for f in fields(cfg)}
    if isinstance(cfg, tuple):
        return [to_dict(v) for v in cfg]
    if isinstance(cfg, dict):
        return {k: to_dict(v) for k, v in cfg.items()}
    return cfg


def _read_yaml(path: str | Path) -> dict:
    from rest_video.resources import resolve_pipeline

    p = resolve_pipeline(path)  # a file, or a shipped pipeline by name ("fast-preview")
    data = read_yaml_file(p)    # bounded: no anchors / aliases, size and depth limits, UTF-8 text
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{p}: top level must be a mapping of sections")
    return data


def _apply_overrides(data: dict, overrides: list[str] | dict | None) -> dict:
    data = _deepcopy(data)
    if not overrides:
        return data
    items = overrides.items() if isinstance(overrides, dict) else (parse_override(o) for o in overrides)
    for key, value in items:
        node = data
        parts = key.split(".")
        for part in parts[:-1]:
            nxt = node.setdefault(part, {})
            if not isinstance(nxt, dict):
                raise ConfigError(f"{key}: {part} is not a section")
            node = nxt
        node[parts[-1]] = value
    return data


def parse_override(text: str) -> tuple[str, Any]:
    if "=" not in text:
        raise ConfigError(f"override {text!r} must look like section.key=value")
    key, raw = text.split("=", 1)
    try:
        value = parse_yaml(raw) if raw != "" else None
    except (yaml.YAMLError, RecursionError):  # not YAML (or YAML a config may not use): the text as it is
        value = raw
    return key.strip(), value


def _deepcopy(d: Any) -> Any:
    if isinstance(d, dict):
        return {k: _deepcopy(v) for k, v in d.items()}
    if isinstance(d, list):
        return [_deepcopy(v) for v in d]
    return d


def build(cls: type, data: Any, path: str = "") -> Any:
    """Build dataclass ``cls`` from ``data``, rejecting unknown keys and mistyped values by key path."""
    if not isinstance(data, dict):
        raise ConfigError(f"{path or 'config'}: expected a mapping, got {type(data).__name__}")
    hints = get_type_hints(cls)
    names = {f.name for f in fields(cls)}
    for key in data:
        if key not in names:
            full = f"{path}.{key}" if path else str(key)
            raise ConfigError(f"unknown config key '{full}' (known: {', '.join(sorted(names))})")
    kwargs = {}
    for f in fields(cls):
        if f.name in data:
            full = f"{path}.{f.name}" if path else f.name
            kwargs[f.name] = _convert(hints[f.name], data[f.name], full)
    try:
        return cls(**kwargs)
    except ConfigError as e:
        msg = str(e)
        if path and not msg.startswith(path):
            msg = f"{path}.{msg}" if "." not in msg.split(" ")[0] else msg
        raise ConfigError(msg) from None


def _convert(tp: Any, value: Any, path: str) -> Any:
    origin = get_origin(tp)
    if dataclasses.is_dataclass(tp):
        return build(tp, value, path)
    if origin in (typing.Union, types.UnionType):
        args = get_args(tp)
        if value is None and type(None) in args:
            return None
        errors = []
        for a in args:
            if a is type(None):
                continue
            try:
                return _convert(a, value, path)
            except ConfigError as e:
                errors.append(str(e))
        raise ConfigError(errors[0] if errors else f"{path}: bad value {value!r}")
    if origin is Literal:
        if value not in get_args(tp):
            choices = ", ".join(repr(a) for a in get_args(tp))
            raise ConfigError(f"{path}: {value!r} is not one of {choices}")
        return value
    if origin is tuple:
        if isinstance(value, str) and "x" in value:  # "640x480"
            value = value.split("x")
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{path}: expected a list, got {value!r}")
        args = get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_convert(args[0], v, path) for v in value)
        if len(args) != len(value):
            raise ConfigError(f"{path}: expected {len(args)} values, got {len(value)}")
        return tuple(_convert(a, v, path) for a, v in zip(args, value))
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{path}: expected a mapping, got {value!r}")
        return {str(k): str(v) for k, v in value.items()}
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{path}: expected true or false, got {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise ConfigError(f"{path}: expected an integer, got {value!r}")
        try:
            return int(value)
        except ValueError:
            raise ConfigError(f"{path}: expected an integer, got {value!r}") from None
    if tp is float:
        if isinstance(value, bool):
            raise ConfigError(f"{path}: expected a number, got {value!r}")
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{path}: expected a number, got {value!r}") from None
        if not math.isfinite(number):
            raise ConfigError(f"{path}: expected a finite number, got {value!r}")
        return number
    if tp is str:
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            raise ConfigError(f"{path}: expected a string, got {value!r}")
        return str(value)
    raise ConfigError(f"{path}: unsupported type {tp}")
