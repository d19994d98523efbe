"""The folded inference form of a trained REST: ``REST.forward`` in eval mode, faster.

:class:`RESTInference` runs a :class:`~rest_video.models.folding.FoldedREST` (BatchNorm and the 1x1
projections folded into the 3x3 convs) and is called like ``REST.forward``; its output equals the
training form's to float rounding (uint8 output differs by at most 1). The network runs as ten 3x3
convs at full resolution and nothing else:

* AdaIN statistics of the projected features ``P r + p`` come from the channel mean and Gram
  matrix of the block output ``r`` (:mod:`rest_video.models.moments`), and the stylized skip, a
  per-pixel affine map of ``r``, is folded per frame into the decoder conv that takes it.
* A decoder block on ``cat(x, skip)`` is ``conv_a(x) + conv_b(skip)``, accumulated in place.
* Convs run on one shared backend (:mod:`rest_video.models.backends`): ``"mkldnn"`` (CPU fp32, and
  bf16 where oneDNN runs it natively; channels-last, reused buffers, ReLU fused, replication
  padding by recomputing the border) or ``"generic"`` (``F.pad`` + ``F.conv2d``, any device).
* Only the convs run multi-threaded; their thread count (torch's or 1) is timed per frame size
  (:class:`~rest_video.models.threads.ThreadTuner`) and passed to each call as an argument.

Masks run in :mod:`rest_video.models.masked`, int8 in :mod:`rest_video.models.int8`, bands of a
frame through :meth:`RESTInference.encode_layers` and :meth:`~RESTInference.stylize_tile`
(:mod:`rest_video.engine.tiling`). Build it with :func:`rest_video.models.build.build_inference`.
Measurements behind these choices: BENCHMARKS.md.
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from typing import Iterator

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rest_video.core.errors import ConfigError
from rest_video.models import masked
from rest_video.models.backends import MIN_PIXELS_IN_PLACE, conv_generic, conv_mkldnn
from rest_video.models.folding import Skip, fold_input_affine, fold_rest
from rest_video.models.moments import OnesCache, frame_moments, moments_to_stats
from rest_video.models.rest import REST, check_image
from rest_video.models.threads import ThreadTuner, num_threads
from rest_video.ops.stats import adain_affine
from rest_video.style import StatsFilter, StyleStats
from rest_video.style.regions import Regions

__all__ = ["RESTInference", "Skip", "BufferPool"]

_CL = torch.channels_last
MIN_PIXELS_PER_THREAD = 1 << 15
"""Below this many pixels per thread the convs run on one thread."""


class BufferPool(threading.local):
    """Reusable intermediate buffers, one set per thread (concurrent callers do not share them)."""

    def __init__(self) -> None:
        self.bufs: dict[str, Tensor] = {}

    def get(self, name: str, shape: tuple[int, ...], dtype: torch.dtype, device: torch.device) -> Tensor:
        t = self.bufs.get(name)
        if t is None or tuple(t.shape) != shape or t.dtype != dtype or t.device != device:
            self.bufs.pop(name, None)  # free the old one first
            t = torch.empty(shape, dtype=dtype, device=device, memory_format=_CL)
            self.bufs[name] = t
        return t


class RESTInference(nn.Module):
    """The folded REST (variant ``rest``) on one device in one float dtype; see the module docstring.

    Thread-safe: buffers are per thread and every per-call value (the conv thread count, the style)
    is an argument; the thread tuner only gathers timings."""

    def __init__(self, model: REST, device: torch.device, dtype: torch.dtype, backend: str,
                 channels_last: bool = True) -> None:
        super().__init__()
        if model.cfg.variant != "rest":
            raise ConfigError("RESTInference covers the 'rest' variant only (use build_inference)")
        self.model = model.eval()
        self.cfg = model.cfg
        self.device = device
        self.dtype = dtype
        self.backend = backend
        self.memory_format = _CL if channels_last else torch.contiguous_format
        self.folded = fold_rest(self.model, device, dtype)
        self._pool = BufferPool()
        self.ones = OnesCache()
        free = [
            f"enc{layer - 1}" for layer in range(1, self.cfg.layers + 1) if layer not in self.cfg.stylized
        ]
        self._dec_bufs = (free + ["dec0", "dec1"])[:2]
        self.small_op_threads = 1  # threads for everything but the convs (0: same as the convs)
        self.conv_threads = 0      # threads for the convs: 0 = tuned per frame size between torch's and 1
        self._tuner = ThreadTuner()

    # -- public -------------------------------------------------------------------------
    def extra_repr(self) -> str:
        fmt = "channels_last" if self.memory_format == _CL else "NCHW"
        return f"backend={self.backend}, device={self.device}, dtype={self.dtype}, {fmt}"

    @property
    def tuning(self) -> bool:
        """True while the conv thread count is still being timed for some frame size."""
        return any(st["best"] is None for st in self._tuner.state.values())

    def macs_per_pixel(self) -> int:
        """Multiply-accumulates per output pixel of the folded convs (:meth:`FoldedREST.macs_per_pixel`)."""
        return self.folded.macs_per_pixel()

    @property
    def stats_halo(self) -> int:
        return self.folded.stats_halo

    @property
    def halo(self) -> int:
        return self.folded.halo

    def tuned_conv_threads(self) -> list[int | None]:
        """The conv thread count chosen per frame size so far (None: still being timed)."""
        return [st["best"] for st in self._tuner.state.values()]

    def release(self) -> None:
        """Drop this thread's reusable intermediate buffers (they are rebuilt on the next call)."""
        self._pool.bufs.clear()
        self.ones.clear()

    @torch.no_grad()
    def forward(self, content: Tensor, style: StyleStats | Tensor, strength: float = 1.0,
                method: str = "adain", stats_filter: StatsFilter | None = None,
                regions: Regions | None = None) -> Tensor:
        check_image(content)
        with self.threads(tuple(content.shape), content.shape[-1] * content.shape[-2]) as threads:
            if regions is not None:
                return masked.forward_masked(self, content, regions, strength, stats_filter, threads)
            return self.run(content, style, strength, method, stats_filter, threads)

    @contextmanager
    def threads(self, key: tuple, conv_pixels: int) -> Iterator[int]:
        """The conv thread count of one call (yielded): the count tuned for ``key`` (a frame shape)
        with convs on ``conv_pixels`` each; everything else runs on ``small_op_threads`` meanwhile,
        and the call is timed for the tuner. 1 but for the mkldnn backend."""
        if self.backend != "mkldnn":
            yield 1
            return
        n = torch.get_num_threads()
        tune = None
        if n == 1 or conv_pixels < MIN_PIXELS_PER_THREAD * 2:
            threads = 1  # small frames: even the convs are too short to pay for a second thread
        elif self.conv_threads:
            threads = min(int(self.conv_threads), n)
        else:
            tune = (key, n)
            threads = self._tuner.choose(tune, (n, 1))
        t0 = time.perf_counter()
        with num_threads(self.small_op_threads or n):
            yield threads
        if tune is not None:
            self._tuner.report(tune, threads, time.perf_counter() - t0)

    def run(self, content: Tensor, style: StyleStats | Tensor, strength: float,
            method: str, stats_filter: StatsFilter | None, threads: int) -> Tensor:
        """:meth:`forward` without its checks, on ``threads`` conv threads (inside :meth:`threads`)."""
        if method not in ("adain", "wct"):
            raise ConfigError(f"stylization method must be 'adain' or 'wct', got {method!r}")
        if isinstance(style, Tensor):
            style = self.model.batch_style_stats(style.to(self.device, torch.float32))
        x = self.as_input(content)
        rs = self.encode(x, threads)
        if method == "adain":
            stats = {layer: self.feat_stats(rs[layer - 1], layer, threads) for layer in self.cfg.stylized}
            if stats_filter is not None:
                stats = stats_filter(stats)
            maps = self.adain_maps(stats, style, strength)
            skips = {layer: Skip(rs[layer - 1], m, c) for layer, (m, c) in maps.items()}
        else:
            feats: list[Tensor | None] = [None] * self.cfg.layers
            for layer in self.cfg.stylized:
                pw, pb = self.folded.proj_c[layer]
                feats[layer - 1] = F.conv2d(rs[layer - 1], pw, pb).float()
            st = self.model.stylize_features(feats, style, strength, "wct")  # type: ignore[arg-type]
            skips = {layer: Skip(st[layer].to(self.dtype).contiguous(memory_format=self.memory_format))
                     for layer in self.cfg.stylized}
        return self.decode(skips, x.shape, threads)

    def as_input(self, content: Tensor) -> Tensor:
        """``content`` in the compute dtype and memory format, on the device."""
        return content.to(device=self.device, dtype=self.dtype).contiguous(memory_format=self.memory_format)

    def adain_maps(self, stats: dict[int, tuple[Tensor, Tensor]], style: StyleStats,
                   strength: float) -> dict[int, tuple[Tensor, Tensor]]:
        """Per stylized layer, the stylized skip as a per-pixel affine map of the encoder output
        ``r``: ``skip = m @ r + c`` with ``m`` ``(B, C, C)`` and ``c`` ``(B, C)`` fp32, from the
        content statistics ``stats`` (``{layer: (mean, std)}``, ``(B, C, 1, 1)``)."""
        maps = {}
        for layer in self.cfg.stylized:
            s_mean = style.mean[layer].to(self.device, torch.float32)
            s_std = style.std[layer].to(self.device, torch.float32)
            scale, shift = adain_affine(stats[layer][0], stats[layer][1], s_mean, s_std, strength)
            scale = scale.to(self.device, torch.float32).flatten(1)  # (B, C)
            shift = shift.to(self.device, torch.float32).flatten(1)
            P, p = self.folded.proj[layer]
            maps[layer] = (scale[:, :, None] * P.float()[None], scale * p.float()[None] + shift)
        return maps

    # -- pieces of tiled inference (rest_video.engine.tiling) --------------------------
    def encode_layers(self, x: Tensor, upto: int | None, area: int,
                      threads: int) -> Iterator[tuple[int, Tensor]]:
        """The encoder on ``x`` (a piece of a frame of ``area`` pixels, whose convs it runs as on
        the whole frame) layer by layer, ``(layer, r)``, keeping two layers alive (each ``r`` is
        overwritten two layers later): the statistics pass of tiled inference."""
        x = self.as_input(x)
        B, _, H, W = x.shape
        for i, (w, b) in enumerate(self.folded.enc[:upto]):
            x = self.conv([(x, w)], b, True, self._buf(f"enc{i % 2}", (B, w.shape[0], H, W)), threads, area)
            yield i + 1, x

    def stylize_tile(self, x: Tensor, maps: dict, area: int, threads: int,
                     regions: Regions | None = None) -> Tensor:
        """Encoder and decoder on ``x`` ``(1, 3, h, w)``, a window of a frame of ``area`` pixels
        (its convs run as on the whole frame), with the skips' affine maps fixed (:meth:`adain_maps`
        of the whole frame's statistics, one sample; with ``regions``, the window's rows of the
        frame's regions, :func:`~rest_video.models.masked.region_maps`)."""
        x = self.as_input(x)
        rs = self.encode(x, threads, area)
        if regions is not None:
            skips = {layer: Skip(masked.region_skip(self, rs[layer - 1], layer, mc, regions.weights))
                     for layer, mc in maps.items()}
            return self.decode(skips, x.shape, threads, area)
        return self.decode(
            {layer: Skip(rs[layer - 1], m, c) for layer, (m, c) in maps.items()}, x.shape, threads, area
        )

    # -- content statistics ------------------------------------------------------------
    def feat_stats(self, r: Tensor, layer: int, threads: int) -> tuple[Tensor, Tensor]:
        """Mean and std of the projected features ``P r + p`` from the mean and Gram matrix of ``r``
        (fp32 blocks summed in fp64, :mod:`rest_video.models.moments`)."""
        B, C, H, W = r.shape
        R = r.permute(0, 2, 3, 1).reshape(B, H * W, C)  # a view for channels_last r
        with num_threads(threads):  # per-block products: the same bits on any thread count
            parts = [frame_moments(R[b], self.ones) for b in range(B)]
        G = torch.stack([g for g, _ in parts])
        S = torch.stack([s for _, s in parts])
        return self.stats_from_moments(layer, G, S, H * W)

    def stats_from_moments(self, layer: int, G: Tensor, S: Tensor, n: int) -> tuple[Tensor, Tensor]:
        """AdaIN content statistics ``(mean, std)`` ``(B, C, 1, 1)`` fp32 of ``layer`` from the fp64
        Gram matrices ``G`` ``(B, C, C)`` and sums ``S`` ``(B, C)`` of its features over ``n`` pixels."""
        P, p = self.folded.proj[layer]
        return moments_to_stats(G, S, n, P, p)

    # -- network ------------------------------------------------------------------------
    def encode(self, x: Tensor, threads: int, area: int | None = None) -> list[Tensor]:
        B, _, H, W = x.shape
        out = []
        for i, (w, b) in enumerate(self.folded.enc):
            x = self.conv([(x, w)], b, True, self._buf(f"enc{i}", (B, w.shape[0], H, W)), threads, area)
            out.append(x)
        return out

    def decode(self, skips: dict[int, Skip], shape, threads: int, area: int | None = None) -> Tensor:
        """The decoder on the stylized ``skips`` of a batch of ``shape``: a fresh float tensor (the
        caller keeps it, possibly while the next frame runs)."""
        B, _, H, W = shape
        dec = self.folded.dec
        out = torch.empty((B, 3, H, W), device=self.device, dtype=self.dtype,
                          memory_format=self.memory_format)
        for i in range(B):  # the skip folding is per sample
            x = None
            for k, blk in enumerate(dec):
                inputs: list[tuple[Tensor, Tensor]] = []
                bias = blk.b
                if blk.wx is not None:
                    inputs.append((x, blk.wx))
                if blk.ws is not None:
                    r, m, c = skips[blk.layer]
                    if m is None:
                        inputs.append((r[i:i + 1], blk.ws_c))
                    else:
                        w, b = fold_input_affine(blk.ws, blk.b32, m[i], c[i])
                        inputs.append((r[i:i + 1], w.to(self.dtype)))
                        bias = b.to(self.dtype)
                if k == len(dec) - 1:
                    dst = out[i:i + 1]
                else:  # ping-pong between two buffers of encoder layers that are no skip
                    buf = self._buf(self._dec_bufs[k % 2], (B, inputs[0][1].shape[0], H, W))
                    dst = None if buf is None else buf[i:i + 1]
                x = self.conv(inputs, bias, blk.relu, dst, threads, area)
        return out

    def _buf(self, name: str, shape: tuple[int, ...]) -> Tensor | None:
        if self.backend != "mkldnn":
            return None
        return self._pool.get(name, shape, self.dtype, self.device)

    def conv(self, inputs: list[tuple[Tensor, Tensor]], bias: Tensor, relu: bool, dst: Tensor | None,
             threads: int, area: int | None = None) -> Tensor:
        """3x3 conv with replication padding over the channel concatenation of ``inputs`` on
        ``threads``; the in-place oneDNN form when the frame (``area`` pixels, default ``dst``'s) is
        large enough."""
        if area is None:
            area = dst.shape[-1] * dst.shape[-2] if dst is not None else 0
        if self.backend == "mkldnn" and area >= MIN_PIXELS_IN_PLACE:
            return conv_mkldnn(inputs, bias, relu, dst, threads)
        return conv_generic(inputs, bias, relu, dst)
