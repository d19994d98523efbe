"""Device and precision choices, resolved once from the config."""

from __future__ import annotations

import torch

from rest_video.core.errors import ConfigError, DeviceError


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
    if precision == "int8" and device.type != "cpu":
        raise ConfigError("runtime.precision int8 runs on the CPU only (oneDNN's int8 convs); "
                          "on CUDA use fp16 or auto")
    # int8: the folded network's fp32 form around oneDNN int8 convs (rest_video.models.int8)
    return {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16, "int8": torch.float32}[
        precision
    ]


def apply_runtime(runtime) -> None:
    """Apply the process-wide settings of a ``RuntimeCfg`` once, where a command starts (never in a
    constructor): torch's CPU thread count (``runtime.threads``, 0 = leave torch's choice), cuDNN
    autotuning (a stream keeps one frame size, so letting cuDNN time its algorithms pays off) and
    :func:`keep_freed_memory`."""
    if runtime.threads and runtime.threads != torch.get_num_threads():
        torch.set_num_threads(runtime.threads)
    torch.backends.cudnn.benchmark = True
    keep_freed_memory()


MMAP_THRESHOLD = 32 << 20
"""glibc's largest mmap threshold (64-bit): blocks up to this size come from the heap."""
TRIM_THRESHOLD = 1 << 30


def keep_freed_memory() -> bool:
    """Let glibc's malloc keep freed memory for the next frame instead of returning it to the
    system (``M_MMAP_THRESHOLD`` 32 MB, ``M_TRIM_THRESHOLD`` 1 GB); True where it applied.

    A video reuses the same tensor sizes every frame. By default a freed block of several MB goes
    back to the system, and the next frame's tensor of that size page-faults its memory in again:
    oneDNN's int8 convs return a fresh tensor per layer, and at 1280x720 those page faults took
    int8 inference from 129 to 180 ms a frame (BENCHMARKS.md, "CPU precision"). The cost: the
    process keeps its peak heap. No-op where the C library is not glibc."""
    return _mallopt(MMAP_THRESHOLD, TRIM_THRESHOLD)


def return_freed_memory() -> bool:
    """Undo :func:`keep_freed_memory` for large frames (4K file mode): blocks from 4 MB up are
    mapped and unmapped by themselves, and the heap is trimmed past 64 MB free, so the process's
    resident memory follows what it holds (the page faults cost little next to a 4K frame's work);
    True where it applied."""
    return _mallopt(4 << 20, 64 << 20)


def _mallopt(mmap_threshold: int, trim_threshold: int) -> bool:
    import ctypes
    import ctypes.util
    import sys

    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
    return bool(mallopt(M_MMAP_THRESHOLD, mmap_threshold)) and bool(mallopt(M_TRIM_THRESHOLD, trim_threshold))
