"""CUDA frame runner: uploads, compute and downloads of consecutive frames overlapped.

Frames cross PCIe as uint8 (3 bytes per pixel instead of 12 or 6) through pinned staging
buffers; the uint8 -> float conversion, the network (fp16, fp32 statistics) and the float ->
uint8 rounding run on the device. Three CUDA streams with events per slot:

    upload stream   : pinned_in[s] -> dev_in[s]                    (frame i+1)
    compute stream  : dev_in[s] -> network -> dev_out[s]            (frame i)
    download stream : dev_out[s] -> pinned_out[s]                   (frame i-1)

over a ring of ``depth`` (>= 3) slots, so the upload of frame i+1 and the download of frame i-1
overlap the compute of frame i. The host never waits for the GPU except to hand back the oldest
frame when all slots are in flight (or, without waiting, frames that are already done).
Frames come back in submission order. A frame over the Stylizer's memory budget
(``runtime.max_memory_mb``) is stylized in tiles by the Stylizer instead, in its turn.

The ordering logic (:class:`FrameRing`, :class:`StagedRunner`) is plain Python, tested without
CUDA; :class:`CudaFrameRunner` adds the CUDA primitives. Importing this module never needs CUDA.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np

from rest_video.core.errors import DeviceError
from rest_video.engine.tensors import hwc_to_tensor, round_to_uint8

__all__ = ["FrameRing", "StagedRunner", "CudaFrameRunner"]


class FrameRing:
    """In-order bookkeeping of up to ``depth`` frames in flight, each in its own slot.

    Slots are used round-robin; because frames retire in FIFO order, the slot given to a new
    frame is always one whose previous frame has retired.
    """

    def __init__(self, depth: int = 3) -> None:
        if depth < 1:
            raise ValueError(f"ring depth must be >= 1, got {depth}")
        self.depth = int(depth)
        self._fifo: deque[tuple[int, Any]] = deque()
        self._seq = 0

    def __len__(self) -> int:
        return len(self._fifo)

    @property
    def full(self) -> bool:
        return len(self._fifo) >= self.depth

    def push(self, meta: Any) -> int:
        """Take the next slot for a new frame; the ring must not be full."""
        if self.full:
            raise RuntimeError("frame ring is full: retire the oldest frame first")
        slot = self._seq % self.depth
        self._seq += 1
        self._fifo.append((slot, meta))
        return slot

    def oldest(self) -> tuple[int, Any] | None:
        return self._fifo[0] if self._fifo else None

    def pop(self) -> tuple[int, Any]:
        """Retire the oldest frame: ``(slot, meta)``."""
        return self._fifo.popleft()


class StagedRunner:
    """``submit`` / ``flush`` over a :class:`FrameRing`; subclasses provide the primitives.

    Subclass hooks: ``_prepare(shape)`` (staging buffers for a frame shape; called with no frame
    in flight), ``_launch(slot, frame)`` (start the asynchronous work), ``_ready(slot)`` (done?,
    non-blocking), ``_wait(slot)`` (block until done), ``_result(slot)`` (the finished frame, a
    copy the caller may keep).
    """

    def __init__(self, depth: int = 3) -> None:
        self.ring = FrameRing(depth)
        self._shape: tuple[int, ...] | None = None

    def submit(self, frame: np.ndarray, meta: Any = None) -> list[tuple[np.ndarray, Any]]:
        """Start ``frame``; returns the frames that are finished, oldest first (maybe none)."""
        done: list[tuple[np.ndarray, Any]] = []
        shape = tuple(frame.shape)
        if shape != self._shape:  # new size: finish what uses the old buffers, then reallocate
            done.extend(self.flush())
            self._prepare(shape)
            self._shape = shape
        if self.ring.full:
            done.append(self._retire())
        slot = self.ring.push(meta)
        self._launch(slot, frame)
        while len(self.ring) and self._ready(self.ring.oldest()[0]):  # type: ignore[index]
            done.append(self._retire())  # already finished: hand back without waiting
        return done

    def flush(self) -> list[tuple[np.ndarray, Any]]:
        """Wait for and return every frame still in flight, in order."""
        return [self._retire() for _ in range(len(self.ring))]

    def _retire(self) -> tuple[np.ndarray, Any]:
        slot, meta = self.ring.pop()
        self._wait(slot)
        return self._result(slot), meta

    # -- hooks --------------------------------------------------------------------------
    def _prepare(self, shape: tuple[int, ...]) -> None:
        raise NotImplementedError

    def _launch(self, slot: int, frame: np.ndarray) -> None:
        raise NotImplementedError

    def _ready(self, slot: int) -> bool:
        raise NotImplementedError

    def _wait(self, slot: int) -> None:
        raise NotImplementedError

    def _result(self, slot: int) -> np.ndarray:
        raise NotImplementedError


class CudaFrameRunner(StagedRunner):
    """Overlapped upload / compute / download on one CUDA device (see the module docstring).

    Args:
        stylizer: a :class:`~rest_video.engine.stylizer.Stylizer` on a CUDA device.
        style: style statistics (on the stylizer's device).
        strength: style strength, already resolved (0..1).
        stats_filter: content statistics filter (temporal smoothing), called on the compute stream.
        depth: ring slots (>= 3 for full overlap).
    """

    def __init__(self, stylizer, style, strength: float, stats_filter=None, depth: int = 3) -> None:
        import torch

        if stylizer.device.type != "cuda" or not torch.cuda.is_available():
            raise DeviceError("CudaFrameRunner needs a Stylizer on a CUDA device")
        super().__init__(max(3, depth))
        self.torch = torch
        self.stylizer = stylizer
        self.style = style
        self.strength = strength
        self.stats_filter = stats_filter
        self.device = stylizer.device
        self.up = torch.cuda.Stream(self.device)
        self.compute = torch.cuda.Stream(self.device)
        self.down = torch.cuda.Stream(self.device)
        n = self.ring.depth
        self.uploaded = [torch.cuda.Event() for _ in range(n)]
        self.computed = [torch.cuda.Event() for _ in range(n)]
        # blocking: the host sleeps instead of spinning while it waits (decode/encode need the CPU)
        self.downloaded = [torch.cuda.Event(blocking=True) for _ in range(n)]

    def submit(self, frame: np.ndarray, meta: Any = None) -> list[tuple[np.ndarray, Any]]:
        """As :meth:`StagedRunner.submit`; a frame over the stylizer's memory budget is stylized
        in tiles by the stylizer itself, after the frames in flight (whole-frame staging buffers
        for it would be over the budget)."""
        if frame.ndim == 3 and not self.stylizer.fits(1, frame.shape[0], frame.shape[1]):
            done = self.flush()
            done.append((self.stylizer.stylize(frame, self.style, self.strength, self.stats_filter), meta))
            return done
        return super().submit(frame, meta)

    def _prepare(self, shape: tuple[int, ...]) -> None:
        torch = self.torch
        if len(shape) != 3 or shape[2] != 3:
            from rest_video.core.errors import ShapeError

            raise ShapeError(f"frames must be (H, W, 3) RGB uint8, got shape {shape}")
        n = self.ring.depth
        self.pin_in = [self.host_buffer(shape) for _ in range(n)]
        self.pin_out = [self.host_buffer(shape) for _ in range(n)]
        self.pin_in_np = [t.numpy() for t in self.pin_in]
        self.pin_out_np = [t.numpy() for t in self.pin_out]
        self.dev_in = [torch.empty(shape, dtype=torch.uint8, device=self.device) for _ in range(n)]
        self.dev_out = [torch.empty(shape, dtype=torch.uint8, device=self.device) for _ in range(n)]

    def _launch(self, slot: int, frame: np.ndarray) -> None:
        torch = self.torch
        if frame.dtype != np.uint8:
            from rest_video.core.errors import ShapeError

            raise ShapeError(f"frames must be uint8, got {frame.dtype}")
        # the slot's previous frame has retired: its upload, compute and download are done
        np.copyto(self.pin_in_np[slot], frame)
        with torch.inference_mode():
            with self.stream_context(self.up):
                self.dev_in[slot].copy_(self.pin_in[slot], non_blocking=True)
                self.uploaded[slot].record(self.up)
            with self.stream_context(self.compute):
                self.compute.wait_event(self.uploaded[slot])
                # (H, W, 3) uint8 -> (1, 3, H, W) channels_last float in [0, 1], on the device
                x = hwc_to_tensor(self.dev_in[slot].unsqueeze(0), self.stylizer.input_dtype)
                y = self.stylizer.stylize_tensor(x, self.style, self.strength, self.stats_filter)
                self.dev_out[slot].copy_(round_to_uint8(y[0]).permute(1, 2, 0))
                self.computed[slot].record(self.compute)
            with self.stream_context(self.down):
                self.down.wait_event(self.computed[slot])
                self.pin_out[slot].copy_(self.dev_out[slot], non_blocking=True)
                self.downloaded[slot].record(self.down)

    # (tests replace these two to run the data path on the CPU)
    def host_buffer(self, shape: tuple[int, ...]):
        """Page-locked host memory, so that copies to / from the device are asynchronous DMA."""
        return self.torch.empty(shape, dtype=self.torch.uint8, pin_memory=True)

    def stream_context(self, stream):
        return self.torch.cuda.stream(stream)

    def _ready(self, slot: int) -> bool:
        return bool(self.downloaded[slot].query())

    def _wait(self, slot: int) -> None:
        self.downloaded[slot].synchronize()

    def _result(self, slot: int) -> np.ndarray:
        # the slot's input is still staged (it is reused only after this frame retires)
        return self.stylizer.finish(self.pin_in_np[slot], self.pin_out_np[slot].copy())
