"""Live mode's choice of path: the full network when it keeps the camera's frame rate, else the LUT.

:func:`choose_path` (``live.path: auto``) times the full network at the target size;
:func:`set_fit_threads` gives the LUT path's background refits all cores but one.
"""

from __future__ import annotations

import os

import torch

from rest_video.engine.stylizer import Stylizer
from rest_video.engine.timing import PathChoice, measure_full_ms
from rest_video.style import StyleStats


def fit_threads() -> int:
    """Torch threads for the background refits: leave one core to capture and LUT apply."""
    return max(1, (os.cpu_count() or 2) - 1)


FULL_SHARE = 0.75
"""The full network may take at most this share of a frame's time; capture, the temporal filters and
the outputs need the rest of the loop. Measured (BENCHMARKS.md, "CPU precision"): int8 at 35 ms a
frame against a 41.7 ms budget (24 fps) delivered 20.9 fps on 2 cores."""


def choose_path(requested: str, stylizer: Stylizer, style: StyleStats, size: tuple[int, int],
                fps: float, probe_side: int = 256) -> PathChoice:
    """``full``/``lut`` as asked; ``auto``: the full network if it keeps ``fps`` at ``size`` (taking at
    most :data:`FULL_SHARE` of a frame's time), else the LUT."""
    if requested in ("full", "lut"):
        return PathChoice(requested, None, f"--path {requested}")
    budget = FULL_SHARE * 1000.0 / fps
    ms, exact = measure_full_ms(stylizer, style, size, budget, probe_side)
    about = "" if exact else "~"
    # timed in the precision the stylizer runs (runtime.precision; auto: bf16 or int8 where the CPU's
    # matrix units make it faster and keep the picture, rest_video.engine.precision)
    net = f"full network ({getattr(stylizer, 'precision', '?')})"
    if ms <= budget:
        return PathChoice("full", ms, f"{net} {about}{ms:.0f} ms/frame at {size[0]}x{size[1]} "
                                      f"keeps {fps:g} fps")
    return PathChoice("lut", ms, f"{net} {about}{ms:.0f} ms/frame at {size[0]}x{size[1]} is over "
                                 f"{budget:.0f} ms ({FULL_SHARE:.0%} of a frame at {fps:g} fps): "
                                 f"using the LUT fast path")


def set_fit_threads(configured: int) -> None:
    """With ``runtime.threads`` 0, give torch all cores but one (the frame loop's) for LUT refits."""
    if configured == 0:
        n = fit_threads()
        if torch.get_num_threads() != n:
            torch.set_num_threads(n)
