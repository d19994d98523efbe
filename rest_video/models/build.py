""":func:`build_inference`: the inference form of a trained REST for one device and one
:class:`~rest_video.core.precision.Precision`, and :class:`ModelFallback` for the variants it does
not fold."""

from __future__ import annotations

from typing import Protocol

import torch
from torch import Tensor, nn

from rest_video.core.errors import ConfigError
from rest_video.core.precision import Precision
from rest_video.models.backends import default_backend, mkldnn_supports
from rest_video.models.inference import RESTInference
from rest_video.models.int8 import Int8Inference, int8_available
from rest_video.models.rest import REST
from rest_video.style import StatsFilter, StyleStats
from rest_video.style.regions import Regions

__all__ = ["InferenceForm", "ModelFallback", "build_inference"]


class InferenceForm(Protocol):
    """What every form :func:`build_inference` returns is called like: ``REST.forward``'s
    signature, ``(B, 3, H, W)`` frames in (float in [0, 1]; int8 also takes uint8), float out."""

    def __call__(self, content: Tensor, style: StyleStats | Tensor, strength: float = 1.0,
                 method: str = "adain", stats_filter: StatsFilter | None = None,
                 regions: Regions | None = None) -> Tensor: ...


def build_inference(model: REST, device: torch.device | str | None = None,
                    precision: Precision | str | torch.dtype = Precision.FP32, backend: str = "auto",
                    channels_last: bool = True) -> InferenceForm:
    """The inference form of ``model`` on ``device`` in ``precision``.

    Args:
        model: a REST network (its BatchNorm running statistics are used, i.e. eval semantics).
        device: where to run (default: the model's device).
        precision: a :class:`Precision`, its name, or a float dtype (fp32, fp16, bf16); ``int8``
            runs oneDNN's int8 convs on the CPU (:mod:`rest_video.models.int8`; ``backend`` is then
            ignored). Statistics are computed in fp32 in every precision.
        backend: ``"auto"``, ``"mkldnn"`` (CPU fp32; bf16 where oneDNN runs it natively) or ``"generic"``.
        channels_last: NHWC activations (the mkldnn backend needs them; ``False`` exists to
            measure the generic backend in NCHW).

    Returns:
        a module called like ``REST.forward``; for the ``aest`` variant a thin wrapper around
        ``model`` (fp32).
    """
    precision = Precision.of(precision)
    if device is None:
        device = next(model.parameters()).device
    device = torch.device(device)
    if model.cfg.variant != "rest":
        return ModelFallback(model, device)
    if precision is Precision.INT8:
        if device.type != "cpu" or not (mkldnn_supports(torch.float32) and int8_available()):
            raise ConfigError("int8 inference needs a CPU with int8 dot products (VNNI or AMX-int8: "
                              "`lscpu | grep -o 'vnni\\|amx_int8'`) and a torch with oneDNN's int8 convs; "
                              "use --precision auto, fp32 or bf16")
        return Int8Inference(model, device)
    dtype = precision.dtype
    if backend == "auto":
        backend = default_backend(device, dtype)
    if backend == "mkldnn" and (device.type != "cpu" or not mkldnn_supports(dtype)):
        raise ConfigError("the mkldnn inference backend needs fp32 on a CPU with oneDNN "
                          "(bf16: a CPU with native bf16, AMX or AVX512-bf16)")
    if backend not in ("mkldnn", "generic"):
        raise ConfigError(f"unknown inference backend {backend!r} (auto, mkldnn or generic)")
    if backend == "mkldnn" and not channels_last:
        raise ConfigError("the mkldnn inference backend runs channels_last only")
    return RESTInference(model, device, dtype, backend, channels_last)


class ModelFallback(nn.Module):
    """Runs the model itself in fp32 (for variants the folded form does not cover)."""

    precision = Precision.FP32

    def __init__(self, model: REST, device: torch.device) -> None:
        super().__init__()
        self.model = model.eval().to(device)
        self.device = device

    @torch.no_grad()
    def forward(self, content: Tensor, style: StyleStats | Tensor, strength: float = 1.0,
                method: str = "adain", stats_filter: StatsFilter | None = None,
                regions: Regions | None = None) -> Tensor:
        if isinstance(style, Tensor):
            style = style.to(self.device, torch.float32)
        content = content.to(self.device, torch.float32)
        return self.model(content, style, strength, method, stats_filter, regions)
