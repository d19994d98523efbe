"""int8 inference on the CPU: the folded REST as a chain of oneDNN u8 x s8 convs (VNNI / AMX-int8).

:class:`Int8Inference` runs whole frames with AdaIN in int8; WCT, masks, bands of a tiled frame,
small frames (under :data:`~rest_video.models.backends.MIN_PIXELS_IN_PLACE` pixels) and nearly flat
frames run in the fp32 form it is built on (:class:`~rest_video.models.inference.RESTInference`).

* Activations are uint8 with one scale per tensor, weights int8 with one scale per output channel
  (rounded so that each kernel keeps its sum, :func:`quantize_weights`); oneDNN sums exactly in
  int32 and applies bias, ReLU and the next layer's scale in one call. The input frame is its own
  uint8 (scale 1/255). Every stored activation is a ReLU output, so uint8 loses no sign.
* Scales follow the video and never clip: each layer's scale is the previous frame's largest value
  there times :data:`MARGIN`; a conv whose output reaches code 255 (or fills less than
  1 / :data:`MIN_FILL` of the range) runs again with the scale this frame needs. Scales are snapped
  to a grid (:func:`snap_scale`), so runs that began apart soon give the same bits. The output
  therefore depends on the frames before (:meth:`Int8Inference.reset_scales` forgets them).
* Replication padding: the 1-pixel border is recomputed by the same int8 conv on
  replication-padded strips.
* Statistics come from the codes' exact integer Gram moments (:func:`code_moments`); each skip's
  AdaIN map is folded into its decoder conv per frame, then quantized.
* Offered only where int8 is exact at full range (:func:`int8_available`); a frame whose features
  the codes cannot resolve (:data:`MIN_SNR`) runs in fp32.

Accuracy contract: :data:`rest_video.engine.precision.CONTRACT`; speed and accuracy: BENCHMARKS.md,
"CPU precision".
"""

from __future__ import annotations

import logging
import math
import threading

import torch
from torch import Tensor, nn

from rest_video.models.backends import MIN_PIXELS_IN_PLACE
from rest_video.models.folding import fold_input_affine
from rest_video.models.inference import BufferPool, RESTInference
from rest_video.models.int8_ops import (
    QConv,
    code_moments,
    int8_available,
    qconv_padded,
    quantize_weights,
    snap_scale,
)
from rest_video.models.rest import REST, check_image
from rest_video.models.threads import num_threads
from rest_video.ops.frames import unit_float
from rest_video.style import StatsFilter, StyleStats
from rest_video.style.regions import Regions

log = logging.getLogger(__name__)

__all__ = ["Int8Inference", "int8_available", "code_moments", "quantize_weights", "snap_scale", "MARGIN",
           "MIN_FILL"]

_CL = torch.channels_last
MARGIN = 1.15
"""Headroom of a layer's scale over the previous frame's largest value there."""
MIN_FILL = 1.5
"""A conv is rerun with a finer scale when its largest code is under 255 / MIN_FILL."""
_MAX_RERUNS = 8
MIN_SNR = 10.0
"""A frame runs in fp32 when some stylized feature's std is under this many times the std its
rounding to codes adds (:meth:`Int8Inference._code_snr`). AdaIN divides by that std, so on nearly
flat frames (a fade to black, a title card) it would amplify the rounding: a photo at 2 % of its
brightness scores 3.4 and came out 17 levels from fp32. Real frames of vtest.avi and the dev
pairs score 14.7-38.8."""


class _State(threading.local):
    """Per-thread scales (concurrent callers each follow their own stream) and counts."""

    def __init__(self) -> None:
        self.scales: dict[tuple, float] = {}
        self.reruns = 0
        self.fallbacks = 0


class Int8Inference(nn.Module):
    """The folded REST with the whole-frame AdaIN path in int8 (see the module docstring); built by
    :func:`rest_video.models.build.build_inference` with ``precision="int8"``. Called like
    ``REST.forward``; it takes uint8 frames ``(B, 3, H, W)`` as they are (and [0, 1] float ones).
    What int8 does not cover runs :attr:`fp32`, the fp32 folded form of the same weights.

    Thread-safe: the scales, counts and buffers are per thread (each caller follows its own stream)."""

    def __init__(self, model: REST, device: torch.device) -> None:
        super().__init__()
        self.fp32 = RESTInference(model, device, torch.float32, "mkldnn")
        self.model, self.cfg, self.device = self.fp32.model, self.fp32.cfg, device
        self.folded = self.fp32.folded
        self._pool = BufferPool()
        self._state = _State()
        enc, dec = self.folded.enc, self.folded.dec
        # encoder: fp32 weights with the input scale 1 (each call passes the input's scale)
        self._qenc = [QConv(w, b) for w, b in enc]
        # decoder blocks without a skip (fixed weights): their input's scale goes in at run time
        self._qdec = [None if blk.ws is not None else QConv(blk.wx, blk.b) for blk in dec]
        self.int8_ok = all(blk.relu for blk in dec[:-1])  # every stored activation is >= 0
        # per stylized layer: the std rounding to codes of step 1 adds to each projected feature
        self._round_std = {layer: P.double().pow(2).sum(1).sqrt() / math.sqrt(12.0)
                           for layer, (P, _) in self.folded.proj.items()}

    def extra_repr(self) -> str:
        return "precision=int8 (oneDNN u8 x s8), fp32 form for the rest, channels_last"

    @property
    def conv_threads(self) -> int:
        """The conv thread count (0: tuned), shared with the fp32 form."""
        return self.fp32.conv_threads

    @conv_threads.setter
    def conv_threads(self, n: int) -> None:
        self.fp32.conv_threads = n

    @property
    def tuning(self) -> bool:
        return self.fp32.tuning

    def tuned_conv_threads(self) -> list[int | None]:
        return self.fp32.tuned_conv_threads()

    def macs_per_pixel(self) -> int:
        return self.fp32.macs_per_pixel()

    def release(self) -> None:
        """Drop this thread's reusable buffers, the fp32 form's too."""
        self._pool.bufs.clear()
        self.fp32.release()

    def _int8_path(self, content: Tensor, method: str) -> bool:
        big = content.shape[-1] * content.shape[-2] >= MIN_PIXELS_IN_PLACE
        return method == "adain" and big and self.int8_ok

    @torch.no_grad()
    def forward(self, content: Tensor, style: StyleStats | Tensor, strength: float = 1.0,
                method: str = "adain", stats_filter: StatsFilter | None = None,
                regions: Regions | None = None) -> Tensor:
        if regions is not None or not self._int8_path(content, method):
            if content.dtype == torch.uint8:
                content = unit_float(content)  # the fp32 form's input, the same bits as frames_to_tensor's
            return self.fp32(content, style, strength, method, stats_filter, regions)
        check_image(content)
        with self.fp32.threads(tuple(content.shape), content.shape[-1] * content.shape[-2]) as threads:
            return self._forward_int8(content, style, strength, stats_filter, threads)

    def reset_scales(self) -> None:
        """Forget the scales learned from earlier frames (the next frame finds its own)."""
        self._state.scales.clear()

    @property
    def fallbacks(self) -> int:
        """Frames run in fp32 on this thread so far because the codes could not resolve them."""
        return self._state.fallbacks

    @property
    def reruns(self) -> int:
        """Convs run again on this thread so far because a scale did not fit (see the module docstring)."""
        return self._state.reruns

    # -- the int8 path ------------------------------------------------------------------
    def _forward_int8(self, content: Tensor, style: StyleStats | Tensor, strength: float,
                      stats_filter: StatsFilter | None, threads: int) -> Tensor:
        if isinstance(style, Tensor):
            style = self.model.batch_style_stats(style.to(self.device, torch.float32))
        x = content.to(self.device)
        if x.dtype == torch.uint8:
            q = x.contiguous(memory_format=_CL)
        else:  # [0, 1] float frames (from uint8): their codes back, exactly
            q = torch.empty(x.shape, dtype=torch.uint8, device=x.device, memory_format=_CL)
            q.copy_(x.float().mul(255.0).round_().clamp_(0, 255))
        B = q.shape[0]
        rs = [self._encode_q(q[i:i + 1], threads) for i in range(B)]  # per sample: {layer: (codes, scale)}
        stats = {layer: self._stats_q([r[layer] for r in rs], layer, threads) for layer in self.cfg.stylized}
        snr = self._code_snr(stats, rs)
        if snr < MIN_SNR:  # the codes cannot resolve this frame: fp32
            if not self._state.fallbacks:  # -v: once per stream
                log.debug("int8: a nearly flat frame (code SNR %.1f < %g) runs in fp32, as will any like it",
                          snr, MIN_SNR)
            self._state.fallbacks += 1
            del rs
            return self.fp32.run(unit_float(content), style, strength, "adain", stats_filter, threads)
        if stats_filter is not None:
            stats = stats_filter(stats)
        maps = self.fp32.adain_maps(stats, style, strength)
        outs = [self._decode_q(rs[i], {layer: (m[i], c[i]) for layer, (m, c) in maps.items()}, threads)
                for i in range(B)]
        if B == 1:
            return outs[0]  # a fresh (1, 3, H, W) fp32 channels-last tensor: no copy
        return torch.cat(outs).contiguous(memory_format=_CL)

    def _code_snr(self, stats: dict[int, tuple[Tensor, Tensor]],
                  rs: list[dict[int, tuple[Tensor, float]]]) -> float:
        """The smallest ratio, over the stylized layers, channels and samples, of a projected
        feature's std to the std that rounding to codes adds to it (uniform, step ``s``, through
        the projection ``P``)."""
        worst = float("inf")
        for layer in self.cfg.stylized:
            for i, r in enumerate(rs):
                noise = self._round_std[layer] * r[layer][1]
                worst = min(worst, float((stats[layer][1][i].flatten().double() / noise).min()))
        return worst

    def _encode_q(self, q: Tensor, threads: int) -> dict[int, tuple[Tensor, float]]:
        """The encoder on one frame's codes: ``{layer: (uint8 codes, scale)}`` of the stylized layers
        (the others are dropped as soon as the next layer has read them)."""
        s = 1.0 / 255.0
        out = {}
        for i, conv in enumerate(self._qenc):
            q, s = self._run([q], s, conv, ("e", i), threads, relu=True)
            if i + 1 in self.cfg.stylized:
                out[i + 1] = (q, s)
        return out

    def _stats_q(self, layer_rs: list[tuple[Tensor, float]], layer: int,
                 threads: int) -> tuple[Tensor, Tensor]:
        """AdaIN content statistics of ``layer`` from its codes' exact integer moments, scaled."""
        Gs, Ss = [], []
        for q, s in layer_rs:
            _, C, H, W = q.shape
            with num_threads(threads):
                G, S = code_moments(q.permute(0, 2, 3, 1).reshape(H * W, C))
            Gs.append(G * (s * s))
            Ss.append(S * s)
        return self.fp32.stats_from_moments(layer, torch.stack(Gs), torch.stack(Ss), H * W)

    def _decode_q(self, rs: dict[int, tuple[Tensor, float]], maps: dict[int, tuple[Tensor, Tensor]],
                  threads: int) -> Tensor:
        x: tuple[Tensor, float] | None = None
        n = len(self.folded.dec)
        for k, blk in enumerate(self.folded.dec):
            conv = self._qdec[k]
            if conv is not None:  # fixed weights: the input's scale goes in at run time
                codes, in_scale = [x[0]], x[1]
            else:  # a skip: its AdaIN map folded into the weights, this frame's
                m, c = maps[blk.layer]
                ws, b = fold_input_affine(blk.ws, blk.b32, m, c)
                r, rscale = rs[blk.layer]
                if x is None:  # the skip alone
                    conv, codes, in_scale = QConv(ws, b), [r], rscale
                else:  # one conv on the concatenation [x, skip], each input's scale in its weights
                    conv = QConv(torch.cat([blk.wx.float() * x[1], ws.float() * rscale], 1), b)
                    codes, in_scale = [x[0], r], 1.0
            last = k == n - 1
            x = self._run(codes, in_scale, conv, ("d", k), threads, relu=blk.relu, out_float=last)
        return x[0]

    def _run(self, codes: list[Tensor], in_scale: float, conv: QConv, key: tuple, threads: int, relu: bool,
             out_float: bool = False) -> tuple[Tensor, float]:
        """One 3x3 replication-padded conv (+ ReLU) on the channel concatenation of uint8 ``codes``
        of scale ``in_scale``: ``(uint8 codes, scale)``, or ``(fp32, 1.0)`` with ``out_float``."""
        xq = codes[0] if len(codes) == 1 else self._concat(codes, threads)
        wscale = conv.ws * in_scale
        attr = "relu" if relu else "none"
        if out_float:
            return qconv_padded(xq, conv, wscale, 1.0, torch.float32, attr, threads), 1.0
        st = self._state
        so = st.scales.get(key)
        if so is None:  # no earlier frame: a first guess, corrected below
            so = snap_scale(0.05)
        exact = False  # so was set from this frame's own largest value (then a 255 is that value)
        for _ in range(_MAX_RERUNS):
            y = qconv_padded(xq, conv, wscale, so, None, attr, threads)
            with num_threads(threads):
                top = int(y.permute(0, 2, 3, 1).reshape(-1).max())  # a flat view: 0.1-0.5 ms at 720p
            # clipped, or all rounded to 0: the largest value in fp32
            if (top >= 255 and not exact) or top == 0:
                yf = qconv_padded(xq, conv, wscale, 1.0, torch.float32, attr, threads)
                top_f = float(yf.amax())
                if top_f <= 0:  # truly all zero
                    break
                so, exact = snap_scale(top_f / 255.0), True  # it fits: the grid rounds the scale up
            elif top < 255 / MIN_FILL:
                so = snap_scale(so * top * MARGIN / 255.0)
            else:
                break
            st.reruns += 1
        # the next frame: this one's largest value with headroom
        st.scales[key] = snap_scale(so * top * MARGIN / 255.0) if 0 < top and (top < 255 or exact) else so
        return y, so

    def _concat(self, ts: list[Tensor], threads: int) -> Tensor:
        """The channel concatenation of channels-last uint8 ``ts`` ``(1, C_i, H, W)``, into a buffer
        reused between frames (a fresh 30 MB tensor at 720p costs its page faults every frame), on
        the conv threads."""
        _, _, H, W = ts[0].shape
        C = sum(t.shape[1] for t in ts)
        buf = self._pool.get("cat", (1, C, H, W), torch.uint8, self.device)
        with num_threads(threads):
            torch.cat([t.permute(0, 2, 3, 1) for t in ts], 3, out=buf.permute(0, 2, 3, 1))
        return buf
