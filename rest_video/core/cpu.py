"""What the CPU this process runs on can do: its model name and the instruction-set flags that
decide which precisions have fast matrix kernels (read from ``/proc/cpuinfo``; torch's own view
is :func:`torch.backends.cpu.get_cpu_capability`)."""

from __future__ import annotations

import platform
from dataclasses import dataclass
from functools import lru_cache

import torch

# flag -> what it gives the convolutions (Linux /proc/cpuinfo names)
MATRIX_FLAGS = {
    "amx_bf16": "AMX-bf16",
    "amx_tile": "AMX tiles",
    "amx_int8": "AMX-int8",
    "amx_fp16": "AMX-fp16",
    "avx512_bf16": "AVX512-bf16",
    "avx512_fp16": "AVX512-fp16",
    "avx512_vnni": "AVX512-VNNI",
    "avx_vnni": "AVX-VNNI",
    "avx512f": "AVX-512",
    "avx2": "AVX2",
    "fma": "FMA",
}


@dataclass(frozen=True)
class CpuFeatures:
    """The CPU's model name, its flags and torch's capability string (AVX2, AVX512, ...)."""

    model: str
    flags: frozenset[str]
    capability: str

    @property
    def amx_bf16(self) -> bool:
        return {"amx_bf16", "amx_tile"} <= self.flags

    @property
    def native_bf16(self) -> bool:
        """bf16 matrix instructions: AMX-bf16 or AVX512-bf16."""
        return self.amx_bf16 or "avx512_bf16" in self.flags

    @property
    def vnni(self) -> bool:
        """int8 dot-product instructions (AVX512-VNNI, AVX-VNNI or AMX-int8)."""
        return bool({"avx512_vnni", "avx_vnni", "amx_int8"} & self.flags)

    def matrix_units(self) -> str:
        """The matrix-relevant flags present, e.g. ``"AVX2, FMA"`` or ``"AMX-bf16, AMX tiles, ..."``."""
        names = [v for k, v in MATRIX_FLAGS.items() if k in self.flags]
        return ", ".join(names) or "none of " + ", ".join(MATRIX_FLAGS.values())


def parse_cpuinfo(text: str) -> tuple[str, frozenset[str]]:
    """``(model name, flags)`` of the first processor in a ``/proc/cpuinfo`` text."""
    model, flags = "", frozenset()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "model name" and not model:
            model = value.strip()
        elif key == "flags" and not flags:
            flags = frozenset(value.split())
        if model and flags:
            break
    return model, flags


@lru_cache(maxsize=1)
def cpu_features() -> CpuFeatures:
    """This machine's :class:`CpuFeatures` (read once per process; no flags where there is no
    ``/proc/cpuinfo``, so nothing is assumed about the CPU)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            model, flags = parse_cpuinfo(f.read())
    except OSError:
        model, flags = "", frozenset()
    cap = getattr(torch.backends.cpu, "get_cpu_capability", lambda: "?")()
    return CpuFeatures(model or platform.processor() or platform.machine(), flags, cap)
