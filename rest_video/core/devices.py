"""Device and precision choices, resolved once from the config."""

from __future__ import annotations

import torch

from rest_video.core.errors import DeviceError


def resolve_device(name: str) -> torch.device:
    """'auto' -> cuda when available, else cpu; 'cuda' without CUDA is a :class:`DeviceError`."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise DeviceError("--device cuda: no CUDA device is available to PyTorch here (use --device cpu)")
    if name not in ("cpu", "cuda"):
        raise DeviceError(f"unknown device {name!r} (auto, cpu or cuda)")
    return torch.device(name)


def resolve_dtype(precision: str, device: torch.device) -> torch.dtype:
    """'auto' -> fp16 on CUDA, fp32 on CPU. The Stylizer refines the CPU's 'auto' for the folded
    network from the CPU's features and a cached probe (:mod:`rest_video.engine.precision`)."""
    if precision == "auto":
        return torch.float16 if device.type == "cuda" else torch.float32
    return {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}[precision]


def apply_runtime(runtime) -> None:
    """Apply the process-wide settings of a ``RuntimeCfg`` once, where a command starts (never in a
    constructor): torch's CPU thread count (``runtime.threads``, 0 = leave torch's choice) and cuDNN
    autotuning (a stream keeps one frame size, so letting cuDNN time its algorithms pays off)."""
    if runtime.threads and runtime.threads != torch.get_num_threads():
        torch.set_num_threads(runtime.threads)
    torch.backends.cudnn.benchmark = True
