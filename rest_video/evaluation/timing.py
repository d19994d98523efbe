"""Timing the network for ``rest-video bench``: device transfers as the pipeline does them, and the
folded network against the eager reference, frame by frame."""

from __future__ import annotations

import statistics
import time
from typing import Callable

import numpy as np
import torch

from rest_video.engine.tensors import hwc_to_tensor, round_to_uint8, tensor_to_uint8, unit_float


def median_ms(ts: list[float]) -> float:
    return 1e3 * statistics.median(ts)


class DeviceTimer:
    """Upload / download / sync for the bench, mirroring what the pipeline does on each device."""

    def __init__(self, stylizer) -> None:
        self.st = stylizer
        self.device = stylizer.device
        self.cuda = self.device.type == "cuda"
        self._pin: dict[tuple, torch.Tensor] = {}

    def sync(self) -> None:
        if self.cuda:
            torch.cuda.synchronize(self.device)

    def upload(self, frame: np.ndarray) -> torch.Tensor:
        if not self.cuda:
            return self.st.input_tensor(frame[None])  # exactly the Stylizer's conversion
        pin = self._pinned(frame.shape, "in")
        pin.numpy()[...] = frame
        d = pin.to(self.device, non_blocking=True)
        return hwc_to_tensor(d.unsqueeze(0), self.st.input_dtype)

    def download(self, y: torch.Tensor) -> np.ndarray:
        if not self.cuda:
            return tensor_to_uint8(y)[0]
        u8 = round_to_uint8(y[0]).permute(1, 2, 0)
        pin = self._pinned(tuple(u8.shape), "out")
        pin.copy_(u8, non_blocking=True)
        torch.cuda.synchronize(self.device)
        return pin.numpy().copy()

    def _pinned(self, shape: tuple, kind: str) -> torch.Tensor:
        key = (kind, tuple(shape))
        if key not in self._pin:
            self._pin[key] = torch.empty(shape, dtype=torch.uint8, pin_memory=True)
        return self._pin[key]

    def timed(self, fn: Callable[[], object]) -> tuple[float, object]:
        self.sync()
        t0 = time.perf_counter()
        out = fn()
        self.sync()
        return time.perf_counter() - t0, out


def bench_network(dev: DeviceTimer, frames: list[np.ndarray], style, reference: bool,
                  keep_outputs: bool = False) -> dict:
    """Optimized vs eager reference, alternating per frame (order swapped every frame);
    ``keep_outputs``: also the optimized uint8 outputs (``"outputs"``)."""
    st = dev.st
    model, net = st.model, st.net
    opt_t: list[float] = []
    ref_t: list[float] = []
    max_diff = 0
    kept: list[np.ndarray] = []
    strength = st.cfg.style.strength
    method = st.method

    def run_opt(x):
        return net(x, style, strength=strength, method=method).clamp_(0.0, 1.0)

    def run_ref(x):
        return model(unit_float(x), style, strength=strength, method=method).clamp_(0.0, 1.0)

    with torch.inference_mode():
        x0 = dev.upload(frames[0])
        for _ in range(8):  # warm-up: oneDNN primitives, buffers, cuDNN autotuning, the CPU thread tuner
            run_opt(x0)
            if not getattr(net, "tuning", False):
                break
        if reference:
            run_ref(x0)
        for i, f in enumerate(frames):
            x = dev.upload(f)
            order = (("opt", "ref") if i % 2 == 0 else ("ref", "opt")) if reference else ("opt",)
            outs = {}
            for which in order:
                t, outs[which] = dev.timed(
                    lambda x=x, which=which: run_opt(x) if which == "opt" else run_ref(x)
                )
                (opt_t if which == "opt" else ref_t).append(t)
            if reference:
                a = tensor_to_uint8(outs["opt"]).astype(np.int16)
                b = tensor_to_uint8(outs["ref"]).astype(np.int16)
                max_diff = max(max_diff, int(np.abs(a - b).max()))
            if keep_outputs:
                kept.append(tensor_to_uint8(outs["opt"])[0])
            del outs
    res = {"optimized_ms": median_ms(opt_t), "optimized_min_ms": 1e3 * min(opt_t)}
    if keep_outputs:
        res["outputs"] = kept
    if reference:
        res.update(eager_ms=median_ms(ref_t), eager_min_ms=1e3 * min(ref_t), max_u8_diff=max_diff,
                   speedup=statistics.median(ref_t) / statistics.median(opt_t))
    return res


def bench_transfers(dev: DeviceTimer, frames: list[np.ndarray], style) -> dict[str, float]:
    st = dev.st
    up: list[float] = []
    down: list[float] = []
    with torch.inference_mode():
        dev.upload(frames[0])
        y = st.stylize_tensor(dev.upload(frames[0]), style, st.cfg.style.strength)
        dev.download(y)
        for f in frames:
            t, _ = dev.timed(lambda f=f: dev.upload(f))
            up.append(t)
            t, _ = dev.timed(lambda: dev.download(y))
            down.append(t)
    return {"upload": median_ms(up), "download": median_ms(down)}
