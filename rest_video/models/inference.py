"""Inference form of a trained REST: the same function as ``REST.forward`` in eval mode, faster.

:func:`build_inference` turns a (trained) :class:`~rest_video.models.rest.REST` into a module with
the same call signature, ``net(content, style, strength=1.0, method="adain", stats_filter=None)``,
whose output equals the training form's to float rounding (uint8 output differs by at most 1).

What it does (every choice measured on the project's CPU, see BENCHMARKS.md):

* **BatchNorm folded** into the preceding 3x3 conv (running statistics, i.e. eval mode).
* **1x1 projections folded away.** Each encoder block ends in a 1x1 conv ``f = P r + p`` after
  the ReLU. Replication padding commutes with a per-pixel affine map, so ``conv3x3(rpad(P r + p))``
  is one 3x3 conv on ``r`` with weights ``W . P`` and an adjusted bias: exact. The projected
  features ``f`` of the stylized layers are never built either:

  - their AdaIN statistics come from the channel mean and Gram matrix of ``r`` (batched GEMMs
    over pixel blocks): ``mean(f) = P mean(r) + p``, ``var(f) = diag(P Cov(r) P^T)``, fp32 blocks
    summed in fp64;
  - the stylized skip ``scale * f + shift`` is again a per-pixel affine map of ``r``, so it is
    folded (per frame, it depends on the content statistics) into the decoder conv that
    consumes it.

  The network therefore runs as 10 3x3 convs and nothing else at full resolution.
* **No concatenation.** A decoder block on ``cat(x, skip)`` is ``conv_a(x) + conv_b(skip)``,
  accumulated in place into one buffer (oneDNN ``add`` post-op), with the ReLU fused.
* **Replication padding without a padded copy** (CPU): the conv runs with implicit zero padding,
  then only the 1-pixel output border is recomputed from replication-padded 2-pixel strips.
* **channels_last** (NHWC), which oneDNN runs without reordering; intermediate buffers are reused
  between calls (a fresh 60 MB tensor per layer costs about as much in page faults as the conv).
* **Style statistics cached** per :class:`StyleStats` object; content statistics per frame, and
  ``stats_filter`` sees the usual ``{layer: (mean, std)}`` float32 ``(B, C, 1, 1)`` dict.
* **Threads**: only the convs run multi-threaded; every small or memory-bound op runs on one
  thread (on a loaded CPU each parallel region waits for a scheduler slice). How many threads the
  convs get (torch's count or 1) is timed per frame size on the first calls and re-checked every
  100 calls (``conv_threads`` fixes it).

Tiled inference (:mod:`rest_video.engine.tiling`) runs the same convs on bands of a frame through
:meth:`RESTInference.encode_layers`, :meth:`~RESTInference.stats_from_moments`,
:meth:`~RESTInference.adain_maps` and :meth:`~RESTInference.stylize_tile`.

**Masks** (``regions=``, :mod:`rest_video.style.regions`): a region's statistics come from the Gram
moments of the features zeroed outside it (the same blocks as the whole frame's, so bands give the
same bits); the AdaIN map then varies per pixel, so it cannot be folded into a conv: the stylized
skips are built (``P r + p``, then each pixel's map, :func:`~rest_video.ops.masked_adain.blend_affine`)
and the decoder runs on them unfolded, as for WCT.

``method="wct"`` computes the projected features, calls the model's own ``stylize_features`` and
decodes them with the same decoder. The ``aest`` ablation (max-pool between blocks: the
projection cannot be folded across a pool) falls back to the model itself (fp32).

Backends (:mod:`rest_video.models.backends`): ``"mkldnn"`` (CPU fp32, and bf16 on CPUs with native
bf16 (AMX / AVX512-bf16): in-place fused oneDNN convs and buffer reuse, the same code in both
precisions) and ``"generic"``
(any device / dtype: ``F.pad(replicate)`` + ``F.conv2d``; used on CUDA, where padding is cheap and
cuDNN picks the algorithms). Statistics are always computed in fp32 (finalised in fp64).
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
from rest_video.models.backends import conv_generic, conv_mkldnn, default_backend, mkldnn_supports
from rest_video.models.folding import DecBlock, fold_bn, fold_input_affine, projection
from rest_video.models.moments import OnesCache, frame_moments, moments_to_stats
from rest_video.models.rest import REST, check_image, check_regions
from rest_video.models.threads import ThreadTuner, num_threads
from rest_video.ops.masked_adain import blend_affine
from rest_video.ops.stats import adain_affine
from rest_video.style import StatsFilter, StyleStats
from rest_video.style.regions import WHOLE, Regions

__all__ = ["build_inference", "RESTInference", "ModelFallback", "default_backend"]

_CL = torch.channels_last
_MIN_PIXELS_PER_THREAD = 1 << 15  # below this many pixels per thread the convs run on one thread
_MIN_PIXELS_IN_PLACE = 1 << 14  # smaller frames: F.pad + conv (measured faster up to ~128x96: the
# border fix has a fixed cost of ~6 ms per frame)


def build_inference(model: REST, device: torch.device | str | None = None, dtype: torch.dtype = torch.float32,
                    backend: str = "auto", channels_last: bool = True, precision: str | None = None) -> nn.Module:
    """The inference form of ``model`` on ``device`` in compute ``dtype``.

    Args:
        model: a REST network (its BatchNorm running statistics are used, i.e. eval semantics).
        device: where to run (default: the model's device).
        dtype: compute dtype of the convolutions (fp32, fp16, bf16); statistics stay fp32.
        backend: ``"auto"``, ``"mkldnn"`` (CPU fp32; bf16 where oneDNN runs it natively) or ``"generic"``.
        channels_last: NHWC activations (the mkldnn backend needs them; ``False`` exists to
            measure the generic backend in NCHW).
        precision: ``"int8"`` for oneDNN's int8 convs on the CPU (:mod:`rest_video.models.int8`;
            ``dtype`` and ``backend`` are then ignored); None: ``dtype``.

    Returns:
        a module called like ``REST.forward``; for the ``aest`` variant a thin wrapper around
        ``model`` (fp32).
    """
    if device is None:
        device = next(model.parameters()).device
    device = torch.device(device)
    if model.cfg.variant != "rest":
        return ModelFallback(model, device)
    if precision == "int8":
        from rest_video.models.int8 import Int8Inference, int8_available

        if device.type != "cpu" or not (mkldnn_supports(torch.float32) and int8_available()):
            raise ConfigError("int8 inference needs a CPU with int8 dot products (VNNI or AMX-int8: "
                              "`lscpu | grep -o 'vnni\\|amx_int8'`) and a torch with oneDNN's int8 convs; "
                              "use --precision auto, fp32 or bf16")
        return Int8Inference(model, device)
    if precision not in (None, "fp32", "fp16", "bf16"):
        raise ConfigError(f"unknown precision {precision!r} (fp32, fp16, bf16 or int8)")
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
        return self.model(content.to(self.device, torch.float32), style, strength, method, stats_filter, regions)


class _Pool(threading.local):
    """Per-thread reusable buffers (so that concurrent callers do not share them)."""

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
    """Folded REST (variant ``rest``); see the module docstring. Build with :func:`build_inference`."""

    def __init__(self, model: REST, device: torch.device, dtype: torch.dtype, backend: str,
                 channels_last: bool = True) -> None:
        super().__init__()
        cfg = model.cfg
        if cfg.variant != "rest":
            raise ConfigError("RESTInference covers the 'rest' variant only (use build_inference)")
        self.model = model.eval()
        self.cfg = cfg
        self.device = device
        self.dtype = dtype
        self.backend = backend
        self.memory_format = _CL if channels_last else torch.contiguous_format
        self._pool = _Pool()
        self._style_key: object | None = None
        self._style_cache: dict[int, tuple[Tensor, Tensor]] = {}
        self._ones = OnesCache()
        to_c = lambda t: t.to(device=device, dtype=dtype).contiguous()  # noqa: E731
        to_32 = lambda t: t.to(device=device, dtype=torch.float32).contiguous()  # noqa: E731

        L = cfg.layers
        enc = model.encoder.blocks
        projs = [projection(b) for b in enc]
        self._enc: list[tuple[Tensor, Tensor]] = []
        for i, blk in enumerate(enc):
            w, b = fold_bn(blk)
            if i > 0:  # the previous block's 1x1 projection, folded into this conv
                w, b = fold_input_affine(w, b, *projs[i - 1])
            self._enc.append((to_c(w), to_c(b)))
        # projections of the stylized layers: statistics and per-frame skip folding (fp64 / fp32)
        self._proj = {l: (projs[l - 1][0].to(device), projs[l - 1][1].to(device)) for l in cfg.stylized}
        self._proj_c = {l: (to_c(projs[l - 1][0][:, :, None, None]), to_c(projs[l - 1][1])) for l in cfg.stylized}

        self._dec: list[DecBlock] = []
        for k, blk in enumerate(model.decoder.blocks):
            layer = L - k
            w = blk.conv.weight.detach().double()
            b = blk.conv.bias.detach().double()
            relu = isinstance(blk.relu, nn.ReLU)
            if k == 0:
                wx, ws = None, w
            elif layer in cfg.stylized:
                c = w.shape[1] // 2
                wx, ws = w[:, :c], w[:, c:]
            else:
                wx, ws = w, None
            self._dec.append(DecBlock(
                wx=None if wx is None else to_c(wx),
                ws=None if ws is None else to_32(ws),
                ws_c=None if ws is None else to_c(ws),
                b=to_c(b), b32=to_32(b), layer=layer, relu=relu))
        self._threads = 1
        free = [f"enc{l - 1}" for l in range(1, L + 1) if l not in cfg.stylized]
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
        """Multiply-accumulates per output pixel of the network as it runs: the ten folded 3x3 convs
        (the 1x1 projections and BatchNorm are folded away; statistics are not counted)."""
        dec = [t for blk in self._dec for t in (blk.wx, blk.ws) if t is not None]
        return int(sum(w.numel() for w, _ in self._enc) + sum(w.numel() for w in dec))

    def tuned_conv_threads(self) -> list[int | None]:
        """The conv thread count chosen per frame size so far (None: still being timed)."""
        return [st["best"] for st in self._tuner.state.values()]

    def release(self) -> None:
        """Drop the reusable intermediate buffers (they are rebuilt on the next call)."""
        self._pool.bufs.clear()
        self._ones.clear()

    @torch.no_grad()
    def forward(self, content: Tensor, style: StyleStats | Tensor, strength: float = 1.0,
                method: str = "adain", stats_filter: StatsFilter | None = None,
                regions: Regions | None = None) -> Tensor:
        check_image(content)
        with self.threads(tuple(content.shape), content.shape[-1] * content.shape[-2]):
            if regions is not None:
                return self._forward_masked(content, regions, strength, stats_filter)
            return self._forward(content, style, strength, method, stats_filter)

    @contextmanager
    def threads(self, key: tuple, conv_pixels: int) -> Iterator[None]:
        """Thread counts for one call: the convs (on ``conv_pixels`` each) on the count tuned for
        ``key`` (a frame shape), everything else on ``small_op_threads``; the call is timed for the
        tuner. A no-op but for the mkldnn backend."""
        if self.backend != "mkldnn":
            yield
            return
        # everything but the big convs runs on one thread (see rest_video.models.threads)
        n = torch.get_num_threads()
        tune = None
        if n == 1 or conv_pixels < _MIN_PIXELS_PER_THREAD * 2:
            self._threads = 1  # small frames: even the convs are too short to pay for a second thread
        elif self.conv_threads:
            self._threads = min(int(self.conv_threads), n)
        else:
            tune = (key, n)
            self._threads = self._tuner.choose(tune, (n, 1))
        t0 = time.perf_counter()
        with num_threads(self.small_op_threads or n):
            yield
        if tune is not None:
            self._tuner.report(tune, self._threads, time.perf_counter() - t0)

    def _forward(self, content: Tensor, style: StyleStats | Tensor, strength: float,
                 method: str, stats_filter: StatsFilter | None) -> Tensor:
        if method not in ("adain", "wct"):
            raise ConfigError(f"stylization method must be 'adain' or 'wct', got {method!r}")
        if isinstance(style, Tensor):
            style = self.model.batch_style_stats(style.to(self.device, torch.float32))
        x = content.to(device=self.device, dtype=self.dtype).contiguous(memory_format=self.memory_format)
        rs = self._encode(x)
        L = self.cfg.layers
        if method == "adain":
            stats = {l: self._feat_stats(rs[l - 1], l) for l in self.cfg.stylized}
            if stats_filter is not None:
                stats = stats_filter(stats)
            skips = {l: (rs[l - 1], m, c) for l, (m, c) in self.adain_maps(stats, style, strength).items()}
        else:
            feats: list[Tensor | None] = [None] * L
            for l in self.cfg.stylized:
                pw, pb = self._proj_c[l]
                feats[l - 1] = F.conv2d(rs[l - 1], pw, pb).float()
            st = self.model.stylize_features(feats, style, strength, "wct")  # type: ignore[arg-type]
            skips = {l: (st[l].to(self.dtype).contiguous(memory_format=self.memory_format), None, None)
                     for l in self.cfg.stylized}
        return self._decode(skips, x.shape)

    def _forward_masked(self, content: Tensor, regions: Regions, strength: float,
                        stats_filter: StatsFilter | None) -> Tensor:
        """Masked AdaIN: per-region statistics from masked Gram moments, and skips built per pixel
        from the regions' affine maps (they vary over the frame, so they cannot be folded into the
        decoder's convs: the skips are computed, and the decoder runs on them unfolded)."""
        check_regions(content, "adain", regions)
        x = content.to(device=self.device, dtype=self.dtype).contiguous(memory_format=self.memory_format)
        rs = self._encode(x)
        stats = self.region_stats(rs, regions)
        if stats_filter is not None:
            stats = stats_filter(stats)
        maps = self.region_maps(stats, regions, strength)
        skips = {l: (self.region_skip(rs[l - 1], l, maps[l], regions.weights), None, None) for l in self.cfg.stylized}
        return self._decode(skips, x.shape)

    def region_stats(self, rs: list[Tensor], regions: Regions) -> dict:
        """Content statistics of masked AdaIN (as :meth:`REST.region_content_stats`) from the
        encoder outputs ``rs`` of one frame: a region's Gram moments are those of the features with
        every pixel outside it set to zero, summed block by block as the whole frame's are."""
        counts = regions.masks.flatten(1).sum(1).tolist()
        stats: dict = {}
        for l in self.cfg.stylized:
            r = rs[l - 1]
            for k, key in enumerate(regions.keys):
                if key == WHOLE:
                    stats[l] = self._feat_stats(r, l)
                    continue
                G, S = frame_moments(self.region_pixels(r, regions.masks[k]), self._ones)
                stats[(l, key)] = self.stats_from_moments(l, G[None], S[None], int(counts[k]))
        return stats

    @staticmethod
    def region_pixels(r: Tensor, mask: Tensor) -> Tensor:
        """``(N, C)`` fp32 features of one frame's ``r`` ``(1, C, H, W)`` in raster order, zero
        outside ``mask`` ``(H, W)``."""
        C = r.shape[1]
        R = r.permute(0, 2, 3, 1).reshape(-1, C)  # a view for channels_last r
        return R.float() * mask.reshape(-1, 1).to(torch.float32)

    def region_maps(self, stats: dict, regions: Regions, strength: float) -> dict[int, tuple]:
        """Per stylized layer, what :meth:`region_skip` needs: the slots' content and style means
        and stds stacked ``(K, C)`` fp32 on the device, and ``strength``."""
        out = {}
        for l in self.cfg.stylized:
            cs = [stats[l if key == WHOLE else (l, key)] for key in regions.keys]
            ss = [(st.mean[l], st.std[l]) for st in regions.styles]
            rows = lambda pairs, i: torch.stack([p[i].to(self.device, torch.float32).flatten() for p in pairs])  # noqa: E731
            out[l] = (rows(cs, 0), rows(cs, 1), rows(ss, 0), rows(ss, 1), float(strength))
        return out

    def region_skip(self, r: Tensor, layer: int, maps: tuple, weights: Tensor) -> Tensor:
        """The stylized skip of one frame (or band) ``r`` ``(1, C, H, W)`` at ``layer``: the
        projected features ``P r + p``, each pixel mapped by AdaIN of its regions' statistics
        blended by ``weights`` ``(K, H, W)`` (:func:`~rest_video.ops.masked_adain.blend_affine`);
        ``(1, C, H, W)`` channels_last.

        Inside a region (weight 1) that map is the region's own, looked up per pixel from a
        ``(K, C)`` table; only the pixels of feathered borders get the blend computed (few)."""
        _, C, H, W = r.shape
        K = weights.shape[0]
        P, p = self._proj[layer]
        R = r.permute(0, 2, 3, 1).reshape(H * W, C).float()
        f = torch.addmm(p.float(), R, P.float().T)
        wk = weights.reshape(K, H * W)
        top, slot = wk.max(0)
        border = (top < 1.0).nonzero().flatten()
        fb = f.index_select(0, border) if border.numel() else None
        scale, shift = blend_affine(torch.eye(K, device=f.device), *maps)  # each region's own map, (K, C)
        f.mul_(scale.index_select(0, slot)).add_(shift.index_select(0, slot))
        if fb is not None:
            bs, bh = blend_affine(wk[:, border].T, *maps)
            f.index_copy_(0, border, fb.mul_(bs).add_(bh))
        return f.view(1, H, W, C).permute(0, 3, 1, 2).to(self.dtype)

    def adain_maps(self, stats: dict[int, tuple[Tensor, Tensor]], style: StyleStats,
                   strength: float) -> dict[int, tuple[Tensor, Tensor]]:
        """Per stylized layer, the stylized skip as a per-pixel affine map of the encoder output
        ``r``: ``skip = m @ r + c`` with ``m`` ``(B, C, C)`` and ``c`` ``(B, C)`` fp32, from the
        content statistics ``stats`` (``{layer: (mean, std)}``, ``(B, C, 1, 1)``)."""
        s_mean, s_std = self._style_stats(style)
        maps = {}
        for l in self.cfg.stylized:
            scale, shift = adain_affine(stats[l][0], stats[l][1], s_mean[l], s_std[l], strength)
            scale = scale.to(self.device, torch.float32).flatten(1)  # (B, C)
            shift = shift.to(self.device, torch.float32).flatten(1)
            P, p = self._proj[l]
            maps[l] = (scale[:, :, None] * P.float()[None], scale * p.float()[None] + shift)
        return maps

    # -- pieces of tiled inference (rest_video.engine.tiling) --------------------------
    @property
    def stats_halo(self) -> int:
        """Pixels around a pixel that its features at the last stylized layer depend on (the
        radius of every 3x3 encoder conv up to that layer)."""
        return sum(w.shape[-1] // 2 for w, _ in self._enc[: max(self.cfg.stylized)])

    @property
    def halo(self) -> int:
        """Pixels around an output pixel that it depends on besides the global statistics: the
        radii of every encoder and decoder conv (the longest path runs through all of them)."""
        dec = sum((blk.wx if blk.wx is not None else blk.ws).shape[-1] // 2 for blk in self._dec)
        return sum(w.shape[-1] // 2 for w, _ in self._enc) + dec

    def encode_layers(self, x: Tensor, upto: int | None, area: int) -> Iterator[tuple[int, Tensor]]:
        """The encoder on ``x`` (a piece of a frame of ``area`` pixels, whose convs it runs as on
        the whole frame) layer by layer, ``(layer, r)``, keeping two layers alive (each ``r`` is
        overwritten two layers later): the statistics pass of tiled inference."""
        x = x.to(device=self.device, dtype=self.dtype).contiguous(memory_format=self.memory_format)
        B, _, H, W = x.shape
        for i, (w, b) in enumerate(self._enc[:upto]):
            x = self._conv([(x, w)], b, True, self._buf(f"enc{i % 2}", (B, w.shape[0], H, W)), area)
            yield i + 1, x

    def stylize_tile(self, x: Tensor, maps: dict, area: int, regions: Regions | None = None) -> Tensor:
        """Encoder and decoder on ``x`` ``(1, 3, h, w)``, a window of a frame of ``area`` pixels
        (its convs run as on the whole frame), with the skips' affine maps fixed (:meth:`adain_maps`
        of the whole frame's statistics, one sample; with ``regions``, the window's rows of the
        frame's regions, :meth:`region_maps`)."""
        x = x.to(device=self.device, dtype=self.dtype).contiguous(memory_format=self.memory_format)
        rs = self._encode(x, area)
        if regions is not None:
            skips = {l: (self.region_skip(rs[l - 1], l, mc, regions.weights), None, None) for l, mc in maps.items()}
            return self._decode(skips, x.shape, area)
        return self._decode({l: (rs[l - 1], m, c) for l, (m, c) in maps.items()}, x.shape, area)

    # -- style / content statistics ----------------------------------------------------
    def _style_stats(self, style: StyleStats) -> tuple[dict[int, Tensor], dict[int, Tensor]]:
        """Style mean/std as fp32 on the device, cached for the last StyleStats object seen."""
        if self._style_key is not style:
            self._style_cache = {l: (style.mean[l].to(self.device, torch.float32),
                                     style.std[l].to(self.device, torch.float32)) for l in self.cfg.stylized}
            self._style_key = style
        return ({l: v[0] for l, v in self._style_cache.items()}, {l: v[1] for l, v in self._style_cache.items()})

    def _feat_stats(self, r: Tensor, layer: int) -> tuple[Tensor, Tensor]:
        """Mean and std of the projected features ``P r + p`` from the mean and Gram matrix of ``r``
        (fp32 blocks summed in fp64, :mod:`rest_video.models.moments`)."""
        B, C, H, W = r.shape
        R = r.permute(0, 2, 3, 1).reshape(B, H * W, C)  # a view for channels_last r
        with num_threads(self._threads):  # per-block products: the same bits on any thread count
            parts = [frame_moments(R[b], self._ones) for b in range(B)]
        G = torch.stack([g for g, _ in parts])
        S = torch.stack([s for _, s in parts])
        return self.stats_from_moments(layer, G, S, H * W)

    def stats_from_moments(self, layer: int, G: Tensor, S: Tensor, n: int) -> tuple[Tensor, Tensor]:
        """AdaIN content statistics ``(mean, std)`` ``(B, C, 1, 1)`` fp32 of ``layer`` from the fp64
        Gram matrices ``G`` ``(B, C, C)`` and sums ``S`` ``(B, C)`` of its features over ``n`` pixels."""
        P, p = self._proj[layer]
        return moments_to_stats(G, S, n, P, p)

    # -- network ------------------------------------------------------------------------
    def _encode(self, x: Tensor, area: int | None = None) -> list[Tensor]:
        B, _, H, W = x.shape
        out = []
        for i, (w, b) in enumerate(self._enc):
            dst = self._buf(f"enc{i}", (B, w.shape[0], H, W))
            x = self._conv([(x, w)], b, True, dst, area)
            out.append(x)
        return out

    def _decode(self, skips: dict[int, tuple[Tensor, Tensor | None, Tensor | None]], shape,
                area: int | None = None) -> Tensor:
        B, _, H, W = shape
        L = self.cfg.layers
        out = torch.empty((B, 3, H, W), device=self.device, dtype=self.dtype, memory_format=self.memory_format)
        # (a fresh tensor: the caller keeps it, possibly while the next frame runs)
        for i in range(B):  # the skip folding is per sample
            x = None
            for k, blk in enumerate(self._dec):
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
                last = k == len(self._dec) - 1
                if last:
                    dst = out[i:i + 1]
                else:  # ping-pong between two buffers of encoder layers that are no skip
                    buf = self._buf(self._dec_bufs[k % 2], (B, inputs[0][1].shape[0], H, W))
                    dst = None if buf is None else buf[i:i + 1]
                x = self._conv(inputs, bias, blk.relu, dst, area)
        return out

    def _buf(self, name: str, shape: tuple[int, ...]) -> Tensor | None:
        if self.backend != "mkldnn":
            return None
        return self._pool.get(name, shape, self.dtype, self.device)

    def _conv(self, inputs: list[tuple[Tensor, Tensor]], bias: Tensor, relu: bool, dst: Tensor | None,
              area: int | None = None) -> Tensor:
        """3x3 conv with replication padding over the channel concatenation of ``inputs``; the
        in-place oneDNN form when the frame (``area`` pixels, default ``dst``'s) is large enough."""
        if area is None:
            area = dst.shape[-1] * dst.shape[-2] if dst is not None else 0
        if self.backend == "mkldnn" and area >= _MIN_PIXELS_IN_PLACE:
            return conv_mkldnn(inputs, bias, relu, dst, self._threads)
        return conv_generic(inputs, bias, relu, dst)
