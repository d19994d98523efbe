"""Model registry: names -> architectures and shipped weights; ``create_model`` is the one factory."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch

from rest_video.core.errors import ConfigError, WeightsError, first_line
from rest_video.core.paths import file_sha256
from rest_video.models.rest import REST, RESTConfig

WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "weights"


@dataclass(frozen=True)
class WeightsCfg:
    """Where a set of weights lives and what it expects."""

    file: str                      # file name inside rest_video/weights/
    input_range: tuple[float, float] = (0.0, 1.0)
    train_crop: int = 192
    license: str = "MIT"
    card: str = "MODEL_CARD.md"


_REGISTRY: dict[str, Callable[[], RESTConfig]] = {}
default_cfgs: dict[str, WeightsCfg] = {
    # the default: the style photo's look (MODEL_CARD.md, "rest_16x5.look")
    "rest_16x5.look": WeightsCfg(file="rest_16x5_look.safetensors", train_crop=128),
    # a faint hint of the look, the first weights (MODEL_CARD.md, "rest_16x5.subtle"); pipelines/subtle.yaml
    "rest_16x5.subtle": WeightsCfg(file="rest_16x5.safetensors"),
}
DEFAULT_TAGS: dict[str, str] = {"rest_16x5": "look"}
"""The weights a bare architecture name (``rest_16x5``, or ``rest_16x5.default``) gets."""


def register_model(fn: Callable[[], RESTConfig]) -> Callable[[], RESTConfig]:
    name = fn.__name__
    if name in _REGISTRY:
        raise ValueError(f"model {name} registered twice")
    _REGISTRY[name] = fn
    return fn


@register_model
def rest_16x5() -> RESTConfig:
    """The paper's REST: 5 resolution-preserving layers of 16 channels, AdaIN at layers 3-5."""
    return RESTConfig(layers=5, width=16, stylized=(3, 4, 5), variant="rest")


@register_model
def aest_16x5() -> RESTConfig:
    """Ablation: the same network with max-pool / upsample between blocks (paper's AEST)."""
    return RESTConfig(layers=5, width=16, stylized=(3, 4, 5), variant="aest")


def list_models() -> list[str]:
    return sorted(_REGISTRY)


def create_model(
    name: str = "rest_16x5", pretrained: bool = True, checkpoint: str | Path | None = None
) -> REST:
    """Build a registered model, loading shipped weights (``pretrained``) or a ``checkpoint`` file.

    The returned model is in eval mode with gradients off.
    """
    arch, _, tag = name.partition(".")
    if arch not in _REGISTRY:
        raise ConfigError(f"unknown model '{name}' (known: {', '.join(list_models())})")
    if checkpoint is not None:
        model = load_checkpoint(checkpoint)
    else:
        model = REST(_REGISTRY[arch]())
        if pretrained:
            path = shipped_weights(name)
            loaded = load_checkpoint(path)
            if loaded.cfg != model.cfg:
                raise WeightsError(f"{path}: architecture {loaded.cfg} does not match {arch}")
            model = loaded
    return model.eval().requires_grad_(False)


def shipped_weights(name: str = "rest_16x5") -> Path:
    """The shipped weights file of a registered name (``arch`` or ``arch.tag``); it may not exist
    yet (check ``is_file()``). An unknown tag is a :class:`WeightsError`."""
    arch, _, tag = name.partition(".")
    if tag in ("", "default"):
        tag = DEFAULT_TAGS.get(arch, "default")
    key = f"{arch}.{tag}"
    if key not in default_cfgs:
        raise WeightsError(f"no shipped weights for '{key}'")
    return WEIGHTS_DIR / default_cfgs[key].file


def load_weights(checkpoint: str | Path | None = None, name: str = "rest_16x5") -> tuple[REST, str]:
    """The shipped weights of ``name``, or a ``.safetensors`` / training ``.pt`` file, with a label.

    Returns the model (eval mode, gradients off) and a label naming the weights (``shipped FILE``,
    or the path and, for a training checkpoint, its step). Raises :class:`WeightsError` with what
    to do when the shipped weights do not exist yet.
    """
    if checkpoint is None:
        path = shipped_weights(name)
        if not path.is_file():
            raise WeightsError(f"no shipped weights yet ({path} does not exist); "
                               "pass --checkpoint FILE, e.g. --checkpoint runs/rest/last.pt")
        return create_model(name), f"shipped {path.name}"
    path = Path(checkpoint)
    model = load_checkpoint(path).eval().requires_grad_(False)
    label = str(path)
    if path.suffix != ".safetensors":
        try:
            step = torch.load(path, map_location="cpu", weights_only=True).get("step")
        except Exception:  # noqa: BLE001 - the label is informative only
            step = None
        if step is not None:
            label += f" (step {int(step)})"
    return model, label


def save_weights(model: REST, path: str | Path, extra: dict | None = None) -> None:
    """Write a model as safetensors with its architecture in the metadata (atomic rename)."""
    from rest_video.io.tensor_file import save_tensors

    meta = {"format": "rest-video/1", "config": json.dumps(model.cfg.to_dict())}
    for k, v in (extra or {}).items():
        meta[k] = str(v)
    save_tensors(
        model.state_dict(), path, metadata=meta
    )  # permissions as the umask says, like any file the user writes


def load_checkpoint(path: str | Path) -> REST:
    """Load a shipped ``.safetensors`` file or a training checkpoint (``.pt``).

    Nothing is trusted before it is checked: the declared architecture must be within
    :class:`RESTConfig`'s bounds, every tensor's name and shape must be what that architecture
    has (checked before a ``.safetensors`` tensor is read), and every value must be finite.
    Anything else is a :class:`WeightsError`.
    """
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"weights not found: {path}")
    try:
        if path.suffix == ".safetensors":
            from safetensors import safe_open

            with safe_open(str(path), "pt") as f:
                cfg = _declared_config(path, json.loads((f.metadata() or {})["config"]))
                _check_shapes(path, cfg, {k: tuple(f.get_slice(k).get_shape()) for k in f.keys()})
                sd = {k: f.get_tensor(k) for k in f.keys()}
        else:
            ck = torch.load(path, map_location="cpu", weights_only=True)
            cfg = _declared_config(path, ck["arch"])
            sd = ck.get("ema", ck["model"])  # a run with a moving average exports the average
            if not isinstance(sd, dict) or not all(isinstance(v, torch.Tensor) for v in sd.values()):
                raise WeightsError(f"{path}: 'model' is not a dict of tensors")
            _check_shapes(path, cfg, {k: tuple(v.shape) for k, v in sd.items()})
    except WeightsError:
        raise
    except Exception as e:  # noqa: BLE001 - whatever the parser says, the file is not usable weights
        raise WeightsError(f"{path}: not rest-video weights ({first_line(e, 120)})") from None
    for k, v in sd.items():
        if v.is_floating_point() and not bool(torch.isfinite(v).all()):
            raise WeightsError(
                f"{path}: {k} holds non-finite values (NaN or infinity); these weights cannot be used"
            )
    model = REST(cfg)
    try:
        model.load_state_dict(sd)
    except RuntimeError as e:
        raise WeightsError(
            f"{path}: weights do not fit the architecture ({first_line(e, None)})"
        ) from None
    return model


def _declared_config(path: Path, arch) -> RESTConfig:
    """The architecture a weights file declares, within :class:`RESTConfig`'s bounds."""
    if not isinstance(arch, dict):
        raise WeightsError(f"{path}: the architecture is {type(arch).__name__}, not a mapping")
    known = {"layers", "width", "stylized", "variant"}
    if set(arch) - known or not {"layers", "width", "stylized"} <= set(arch):
        raise WeightsError(f"{path}: the architecture has keys {sorted(arch)}, expected {sorted(known)}")
    ints = [
        arch["layers"],
        arch["width"],
        *(arch["stylized"] if isinstance(arch["stylized"], (list, tuple)) else [None]),
    ]
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in ints):
        raise WeightsError(
            f"{path}: the architecture's layers, width and stylized must be integers, got {arch}"
        )
    try:
        return RESTConfig(**{**arch, "stylized": tuple(arch["stylized"])})
    except ConfigError as e:
        raise WeightsError(f"{path}: {e}") from None


def _check_shapes(path: Path, cfg: RESTConfig, shapes: dict[str, tuple[int, ...]]) -> None:
    """Every tensor the architecture has, with its shape, and no other (nothing allocated here)."""
    with torch.device("meta"):
        expected = {k: tuple(v.shape) for k, v in REST(cfg).state_dict().items()}
    missing = sorted(set(expected) - set(shapes))
    extra = sorted(set(shapes) - set(expected))
    if missing or extra:
        what = f"missing {missing[0]}" if missing else f"unexpected {extra[0]}"
        raise WeightsError(f"{path}: weights do not fit the declared architecture ({what})")
    for k, shape in expected.items():
        if shapes[k] != shape:
            raise WeightsError(
                f"{path}: {k} has shape {list(shapes[k])}, the declared architecture needs {list(shape)}"
            )


def weights_identity(name: str = "rest_16x5", checkpoint: str | Path | None = None) -> str:
    """A short hash naming the exact weights (file content) a model uses, for caches."""
    path = Path(checkpoint) if checkpoint is not None else shipped_weights(name)
    try:
        return file_sha256(path)[:16]
    except OSError:
        raise WeightsError(f"weights not found: {path}") from None
