"""File mode within ``runtime.max_memory_mb`` of resident memory, the whole process.

The budget is shared out before the first frame (:func:`plan_memory`): what the process holds
already (interpreter, torch, the model), then per frame size the codecs, the temporal filters'
state and the per-frame scratch arrays, then the queues between the stages (as deep as fits, at
most ``runtime.queue_size``), and what is left is the network's working memory (frames over it
run in bands with the same output, :class:`~rest_video.engine.tiling.TilePlan`). The per-frame
costs are multiples of one RGB frame, measured at 4K (BENCHMARKS.md, "Memory").
"""

from __future__ import annotations

import logging
import resource
from dataclasses import dataclass

from rest_video.core.config import PipelineConfig
from rest_video.core.devices import TRIM_THRESHOLD, return_freed_memory
from rest_video.engine.stylizer import Stylizer

log = logging.getLogger(__name__)

CODEC_FRAMES = 58        # decoder + x264 (lookahead, references) at its defaults: 1.45 GB at 3840x2160
FILTER_FRAMES = 46       # the pixel stabilizer's float32 state and scratch (41 held, 46 at peak)
SCRATCH_FRAMES = 15      # the largest per-frame step's temporaries (shadow guard 14, LUT apply 9, blend 12)
DETAIL_FRAMES = 7        # the LUT path's local-contrast term, in its finish thread beside the map
QUEUE_FRAMES = 3         # a frame waiting to be stylized (1) and one waiting to be encoded (output + input)
MIN_NETWORK = 64 << 20   # the network always gets at least this much (its bands shrink to fit)


@dataclass(frozen=True)
class MemoryPlan:
    queue_size: int       # frames per queue between the stages
    network: int          # bytes of working memory for the network
    needed: int           # bytes the run is expected to peak at
    budget: int           # runtime.max_memory_mb in bytes
    return_freed: bool    # glibc must give freed memory back (what it keeps for speed would pass the budget)


def resident_bytes() -> int:
    """The process's resident memory now (Linux: /proc/self/statm), else its peak so far."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        import os

        return pages * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak * 1024  # kB on Linux


def plan_memory(budget_mb: int, width: int, height: int, queue_size: int, network_need: int,
                base: int | None = None, filters: bool = True, extra_frames: int = 0) -> MemoryPlan:
    """Share ``budget_mb`` for a ``width`` x ``height`` video: first what is fixed (``base``: bytes
    held already, default now; codecs, scratch, ``extra_frames`` more, and the pixel stabilizer's
    state when ``filters``),
    then the network (up to ``network_need``, the bytes it takes to run a frame whole), then the
    queues (at least one frame deep). Over budget even so: the least memory it can, one warning."""
    budget = int(budget_mb) << 20
    frame = width * height * 3
    base = resident_bytes() if base is None else base
    fixed = base + frame * (CODEC_FRAMES + SCRATCH_FRAMES + extra_frames + (FILTER_FRAMES if filters else 0))
    slot = QUEUE_FRAMES * frame            # one frame deeper in both queues
    network = max(MIN_NETWORK, min(int(network_need), budget - fixed - slot))
    depth = max(1, min(queue_size, (budget - fixed - network) // slot))
    needed = fixed + network + depth * slot
    if needed > budget:
        log.warning(
            "runtime.max_memory_mb=%d is below what %dx%d video needs here (about %d MB); running with "
            "the least memory it can",
            budget_mb,
            width,
            height,
            needed >> 20,
        )
    return MemoryPlan(int(depth), int(network), int(needed), budget, needed + TRIM_THRESHOLD > budget)


def apply_memory_plan(cfg: PipelineConfig, stylizer: Stylizer, w: int, h: int, path: str) -> MemoryPlan:
    """Share ``runtime.max_memory_mb`` out for a ``w`` x ``h`` video on ``path`` (``full`` or ``lut``),
    give the network its part, and let glibc give memory back where the plan says so."""
    pixels = w * h
    if path == "lut":                       # the network runs on the fit frame only
        side = cfg.live.fit_side
        pixels = min(pixels, side * side)
    need = stylizer.plan.bpp["frame"] * pixels if stylizer.plan is not None else 0
    t = cfg.temporal
    memory = plan_memory(cfg.runtime.max_memory_mb, w, h, cfg.runtime.queue_size, need,
                         filters=t.pixel_smoothing > 0 or t.chroma_sigma > 0,
                         extra_frames=DETAIL_FRAMES if path == "lut" and cfg.live.detail else 0)
    stylizer.limit_memory(memory.network)
    if memory.return_freed:
        return_freed_memory()
    log.debug(
        "memory: queues of %d frames, %d MB for the network, about %d MB in all (runtime.max_memory_mb %d)",
        memory.queue_size,
        memory.network >> 20,
        memory.needed >> 20,
        cfg.runtime.max_memory_mb,
    )
    return memory
