"""The library API: :class:`Stylizer` turns RGB uint8 frames into stylized RGB uint8 frames.

    from rest_video import Stylizer
    st = Stylizer()                       # shipped weights, device auto
    style = st.load_style("style.jpg")    # statistics computed once (and cached on disk)
    out = st.stylize(frame, style)        # (H, W, 3) or (N, H, W, 3) uint8 -> same shape

    # mask-guided: each content region takes its look from the style's region of the same colour
    style = st.load_style("style.jpg", mask="style-mask.png")
    out = st.stylize(frame, style, content_mask=read_mask("mask.png", (w, h)))

A frame (or batch) whose working memory would pass ``runtime.max_memory_mb`` is stylized in bands
of rows with the same output (:mod:`rest_video.engine.tiling`); smaller ones run whole, as always.

The Stylizer keeps no per-frame state (only a memo of the last masked frame's region plan, reused for
the same mask): temporal smoothing state lives in a
:class:`~rest_video.stream.smoothing.StatsSmoother` that the caller owns and passes in (a
:class:`~rest_video.stream.processor.StreamStylizer` composes them for a stream of frames). It sets
no process-wide state either: :func:`~rest_video.core.devices.apply_runtime` does, once.
"""

from __future__ import annotations

import hashlib
import logging
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from rest_video.core.config import PipelineConfig, check_strength
from rest_video.core.errors import ConfigError, ShapeError
from rest_video.core.devices import resolve_device, resolve_dtype
from rest_video.engine.tensors import check_frames, frames_to_tensor, input_dtype, tensor_to_uint8
from rest_video.io.image import read_image
from rest_video.io.mask_colours import colour_label
from rest_video.io.masks import as_labels, read_mask
from rest_video.models import REST, create_model, weights_identity
from rest_video.ops.opacity import blend
from rest_video.ops.shadows import keep_shadow_detail
from rest_video.style import StatsFilter, StyleCache, StyleStats, cache_key, check_not_flat, file_hash
from rest_video.style.regions import WHOLE, Regions, RegionStyle, plan_regions, protect_weight

log = logging.getLogger(__name__)


class Stylizer:
    """REST inference on one device with one model; styles are passed per call as :class:`StyleStats`."""

    def __init__(self, cfg: PipelineConfig | None = None, model: REST | None = None,
                 cache: StyleCache | None = None) -> None:
        self.cfg = cfg or PipelineConfig()
        rt = self.cfg.runtime
        self.device = resolve_device(rt.device)
        self.dtype = resolve_dtype(rt.precision, self.device)
        self._precision = rt.precision if rt.precision != "auto" else None  # int8: dtype is the fp32 form's
        if model is None:
            model = create_model(self.cfg.model.name, checkpoint=self.cfg.model.checkpoint)
            self.weights_id = weights_identity(self.cfg.model.name, self.cfg.model.checkpoint)
        else:
            self.weights_id = state_hash(model)
        self.model = model.eval().requires_grad_(False).to(self.device)
        self.precision_choice = None  # what runtime.precision auto chose on the CPU, and why
        if rt.precision == "auto" and self.device.type == "cpu" and rt.optimized:
            from rest_video.engine.precision import choose_cpu_precision

            self.precision_choice = choose_cpu_precision(self.model, self.weights_id)
            self.dtype = self.precision_choice.dtype
            self._precision = self.precision_choice.precision
            log.debug("precision auto: %s", self.precision_choice.describe())  # -v; a probe logs INFO itself
        self.net = self._build_net()
        self.input_dtype = input_dtype(self.dtype, self.net is not self.model)
        self.cache = cache if cache is not None else StyleCache()
        self.method = self.cfg.model.method
        self.plan, self.tiled = self._build_tiling()
        self._warned_whole = False
        self._last_plan = None  # (key, style, plan) of the last masked frame (_plan)

    @property
    def precision(self) -> str:
        """The compute precision in effect: ``fp32``, ``fp16``, ``bf16`` or ``int8``."""
        if getattr(self.net, "precision", None) == "int8":  # the int8 form computes around an fp32 one
            return "int8"
        return {torch.float32: "fp32", torch.float16: "fp16", torch.bfloat16: "bf16"}[self.dtype]

    def _build_net(self):
        if self.cfg.runtime.optimized:
            try:
                from rest_video.models.inference import build_inference
            except ImportError:
                return self.model
            return build_inference(self.model, self.device, self.dtype,
                                   precision="int8" if self._precision == "int8" else None)
        return self.model

    def _build_tiling(self):
        """The memory plan and the tiled runner, for the folded inference form (else None, None)."""
        from rest_video.models.inference import RESTInference

        if not isinstance(self.net, RESTInference):
            return None, None
        from rest_video.engine.tiling import TiledStylizer, TilePlan

        plan = TilePlan(self.net, self.cfg.runtime.max_memory_mb << 20)
        return plan, TiledStylizer(self.net, plan, self.input_dtype)

    def limit_memory(self, budget: int) -> None:
        """Give the network's working memory ``budget`` bytes from now on (frames over it run in
        bands, with the same output): file mode's share of ``runtime.max_memory_mb`` once the
        queues, filters and codecs have theirs (:mod:`rest_video.pipeline.memory`)."""
        if self.plan is not None:
            from rest_video.engine.tiling import TiledStylizer, TilePlan

            self.plan = TilePlan(self.net, max(int(budget), 1))
            self.tiled = TiledStylizer(self.net, self.plan, self.input_dtype)

    def fits(self, frames: int, h: int, w: int, regions: int = 0) -> bool:
        """True when ``frames`` frames of ``h`` x ``w`` run whole within ``runtime.max_memory_mb``
        (larger ones run in bands); always True where there is no estimate (the plain model).
        ``regions``: the slots of a masked frame (their masks, weights and skips cost memory too)."""
        return self.plan is None or self.plan.fits(frames, h, w, regions)

    def resolve_strength(self, strength: float | None) -> float:
        """``strength`` range-checked, or the configured ``style.strength`` when None."""
        return self.cfg.style.strength if strength is None else check_strength(strength)

    # -- styles -------------------------------------------------------------------------
    def load_style(self, style: str | Path | np.ndarray, use_cache: bool | None = None, *,
                   mask: str | Path | np.ndarray | None = None) -> StyleStats | RegionStyle:
        """Statistics of a style image (path or RGB uint8 array), from the disk cache when possible
        (a cache hit reads the file's bytes for the key, and decodes nothing).

        With ``mask`` (a mask image path, or an array for :func:`~rest_video.io.masks.as_labels`),
        a :class:`RegionStyle`: the statistics of the whole style and of each of its mask's regions
        (cached too, keyed also by the mask file's hash)."""
        use_cache = self.cfg.style.cache if use_cache is None else use_cache
        if mask is not None:
            return self._load_region_style(style, mask, use_cache)
        with_cov = self.method == "wct"
        key = None
        if isinstance(style, (str, Path)):
            if use_cache and Path(style).is_file():
                key = cache_key(file_hash(style), self.weights_id, self.cfg.style.max_side, with_cov)
                hit = self.cache.load(key, self.model.cfg.stylized, self.model.cfg.width, with_cov)
                if hit is not None:
                    return hit.to(self.device)
            img = read_image(style, self.cfg.style.max_side)
        else:
            img = check_frames(style)[0] if style.ndim == 4 else check_frames(style[None])[0]
        check_not_flat(img, str(style) if isinstance(style, (str, Path)) else "style image")
        stats = self.model.style_stats(self.to_tensor(img[None]).float(), with_cov=with_cov)
        if key is not None:
            self.cache.save(key, stats)
        return stats.to(self.device)

    def _load_region_style(self, style: str | Path | np.ndarray, mask: str | Path | np.ndarray,
                           use_cache: bool) -> RegionStyle:
        key = None
        layers, width = self.model.cfg.stylized, self.model.cfg.width
        if isinstance(style, (str, Path)) and isinstance(mask, (str, Path)) and use_cache \
                and Path(style).is_file() and Path(mask).is_file():
            key = cache_key(f"{file_hash(style)}|mask:{file_hash(mask)}", self.weights_id, self.cfg.style.max_side, False)
            hit = self.cache.load_regions(key, layers, width)
            if hit is not None:
                return hit.to(self.device)
        if isinstance(style, (str, Path)):
            img = read_image(style, self.cfg.style.max_side)
        else:
            img = check_frames(style)[0] if style.ndim == 4 else check_frames(style[None])[0]
        check_not_flat(img, str(style) if isinstance(style, (str, Path)) else "style image")
        size = (img.shape[1], img.shape[0])
        labels = read_mask(mask, size) if isinstance(mask, (str, Path)) else as_labels(mask, size)
        if self.cfg.model.method != "adain":
            raise ConfigError("masks work with AdaIN only (--method wct has no per-region form)")
        stats = self.model.region_style_stats(self.to_tensor(img[None]).float(),
                                              torch.from_numpy(labels).to(self.device))
        if key is not None:
            self.cache.save_regions(key, stats)
        return stats.to(self.device)

    # -- frames -------------------------------------------------------------------------
    @torch.inference_mode()
    def stylize(self, frames: np.ndarray, style: StyleStats | RegionStyle, strength: float | None = None,
                stats_filter: StatsFilter | None = None, *, content_mask: np.ndarray | None = None,
                protect: str | None = None, stats_mask: np.ndarray | None = None) -> np.ndarray:
        """Stylize RGB uint8 frames ``(H, W, 3)`` or ``(N, H, W, 3)``; returns the same shape.

        ``strength``: the look's opacity over the input, 0 = the input itself (a copy, the network
        does not run), 1 = the full look (None: the configured ``style.strength``); see
        :func:`~rest_video.ops.opacity.blend`.
        Frames over the memory budget (:meth:`fits`) run in bands, with the same output.

        ``content_mask``: labels (``(H, W)``, or ``(N, H, W)`` one per frame; an ``(H, W, 3)``
        colour mask is snapped, see :func:`~rest_video.io.masks.as_labels`) for mask-guided
        stylization with a :class:`RegionStyle` from ``load_style(..., mask=...)``: each region
        takes its look from the style's region of the same label (``masks`` settings of the
        config). ``protect``: a mask colour whose region keeps the input's pixels (default
        ``masks.protect``).

        ``stats_mask``: ``(H, W)`` bool, the only pixels the content statistics come from (every
        region's, with a content mask); the others still take the map of their region (an image's
        fully transparent pixels, rest_video/pipeline/still.py). All True or None: every pixel counts."""
        if stats_mask is not None and bool(np.all(stats_mask)):
            stats_mask = None
        if content_mask is not None:
            protect = self.cfg.masks.protect if protect is None else protect
        elif protect is not None:
            raise ConfigError("protecting a region needs a content mask")
        if content_mask is not None or stats_mask is not None:
            return self._stylize_masked(frames, style, strength, stats_filter, content_mask, protect,
                                        stats_mask)
        if isinstance(style, RegionStyle):
            style = style.whole
        single = frames.ndim == 3
        batch = check_frames(frames[None] if single else frames)
        strength = self.resolve_strength(strength)
        if strength <= 0.0:
            out = batch.copy()
        else:
            out = blend(batch, self.finish(batch, self._stylize_plain(batch, style, 1.0, stats_filter)), strength)
        return out[0] if single else out

    def finish(self, frames: np.ndarray, stylized: np.ndarray) -> np.ndarray:
        """The network's uint8 output of ``frames`` with the shadow guard (``style.keep_shadows``,
        :func:`~rest_video.ops.shadows.keep_shadow_detail`): the full look as every path renders it."""
        return keep_shadow_detail(frames, stylized) if self.cfg.style.keep_shadows else stylized

    def _stylize_plain(self, batch: np.ndarray, style: StyleStats, strength: float,
                       stats_filter: StatsFilter | None) -> np.ndarray:
        if not self.fits(*batch.shape[:3]):
            if self.method == "adain":
                return self.tiled(batch, style, strength, stats_filter)
            if not self._warned_whole:
                self._warned_whole = True
                log.warning("frames of %dx%d are over runtime.max_memory_mb=%d, but only AdaIN runs in bands: "
                            "running them whole", batch.shape[2], batch.shape[1], self.cfg.runtime.max_memory_mb)
        y = self.stylize_tensor(self.input_tensor(batch), style, strength, stats_filter)
        return tensor_to_uint8(y)

    def _stylize_masked(self, frames: np.ndarray, style: StyleStats | RegionStyle, strength: float | None,
                        stats_filter: StatsFilter | None, content_mask: np.ndarray | None,
                        protect: str | None, stats_mask: np.ndarray | None = None) -> np.ndarray:
        """Mask-guided stylization, one frame at a time (each frame has its own regions)."""
        if self.method != "adain":
            raise ConfigError("masks work with AdaIN only (--method wct has no per-region form)")
        single = frames.ndim == 3
        batch = check_frames(frames[None] if single else frames)
        strength = self.resolve_strength(strength)
        n, h, w = batch.shape[:3]
        labels = (np.zeros((n, h, w), np.uint8) if content_mask is None
                  else self._frame_labels(content_mask, n, h, w))
        try:
            p_label = None if protect is None else colour_label(protect)
        except ValueError as e:
            raise ConfigError(f"--protect: {e}") from None
        if strength <= 0.0:
            return batch[0].copy() if single else batch.copy()
        m = self.cfg.masks
        out = np.empty_like(batch)
        for i in range(n):
            if content_mask is None:  # no regions: one look, the whole style's
                stats, regions = (style.whole if isinstance(style, RegionStyle) else style), None
            else:
                stats, regions = self._plan(labels[i], style)
            if stats_mask is not None:
                regions = counted_only(regions, stats, stats_mask, self.device)
            frame = batch[i:i + 1]
            if regions is None:
                out[i] = self._stylize_plain(frame, stats, 1.0, stats_filter)[0]
            elif not self.fits(1, h, w, len(regions.keys)):
                out[i] = self.tiled(frame, stats, 1.0, stats_filter, regions)[0]
            else:
                y = self.net(self.to_tensor(frame), stats, strength=1.0, method=self.method,
                             stats_filter=stats_filter, regions=regions)
                out[i] = tensor_to_uint8(y.clamp_(0.0, 1.0))[0]
            out[i] = self.finish(batch[i], out[i])
            if p_label is not None:
                keep = protect_weight(labels[i], p_label, m.feather)
                if keep is not None:
                    mixed = out[i].astype(np.float32)
                    mixed += keep[..., None] * (batch[i].astype(np.float32) - mixed)
                    out[i] = np.rint(mixed).astype(np.uint8)
        out = blend(batch, out, strength)
        return out[0] if single else out

    def _plan(self, labels: np.ndarray, style: StyleStats | RegionStyle):
        """:func:`plan_regions` for one frame, reused while the labels (by content hash) and the
        style object stay the same: a static mask costs its blur once, not on every frame."""
        m = self.cfg.masks
        key = (hashlib.blake2b(np.ascontiguousarray(labels).data, digest_size=16).digest(), labels.shape, id(style))
        hit = self._last_plan
        if hit is not None and hit[0] == key and hit[1] is style:
            return hit[2]
        plan = plan_regions(labels, style, m.feather, m.min_region, self.device)
        self._last_plan = (key, style, plan)  # holds the style, so its id is not reused meanwhile
        return plan

    @staticmethod
    def _frame_labels(mask: np.ndarray, n: int, h: int, w: int) -> np.ndarray:
        """``(n, h, w)`` uint8 labels from a content mask given for one frame or for each."""
        mask = np.asarray(mask)
        if mask.ndim == 4 or (mask.ndim == 3 and mask.shape[-1] != 3):  # one per frame
            if mask.shape[0] != n:
                raise ShapeError(f"{mask.shape[0]} content masks for {n} frames")
            return np.stack([as_labels(mk, (w, h)) for mk in mask])
        return np.broadcast_to(as_labels(mask, (w, h)), (n, h, w))

    @torch.inference_mode()
    def stylize_tensor(self, x: Tensor, style: StyleStats, strength: float,
                       stats_filter: StatsFilter | None = None) -> Tensor:
        """``(B, 3, H, W)`` float in [0, 1] on the device (or uint8 for the int8 form,
        :meth:`input_tensor`) -> stylized, float, same shape, clamped to [0, 1]."""
        y = self.net(x, style, strength=strength, method=self.method, stats_filter=stats_filter)
        return y.clamp_(0.0, 1.0)

    def to_tensor(self, batch: np.ndarray) -> Tensor:
        """``(N, H, W, 3)`` uint8 -> ``(N, 3, H, W)`` float in [0, 1] on the device, in the dtype the network takes."""
        return frames_to_tensor(batch, self.device, self.input_dtype)

    def input_tensor(self, batch: np.ndarray) -> Tensor:
        """Frames as the network takes them: :meth:`to_tensor`, except for the int8 form, which
        takes the uint8 frames themselves (a channels-last view of ``batch``, no conversion)."""
        if getattr(self.net, "takes_uint8", False):
            with warnings.catch_warnings():  # read-only frames: the network only reads them
                warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
                return torch.from_numpy(np.ascontiguousarray(batch)).permute(0, 3, 1, 2)
        return self.to_tensor(batch)


def counted_only(regions: Regions | None, stats: StyleStats, counted: np.ndarray,
                 device: torch.device | str) -> Regions:
    """``regions`` (None: one look over the frame, ``stats``) with every slot's content statistics
    taken from its ``counted`` pixels only (a slot with none of them keeps its own); the fallback
    slot becomes a region like the others, as its statistics are no longer the whole frame's."""
    m = torch.from_numpy(np.ascontiguousarray(counted, dtype=bool)).to(device)
    if regions is None:
        return Regions(m[None], torch.ones((1, *m.shape), device=device), (stats,), (0,))
    masks = regions.masks & m
    empty = ~masks.flatten(1).any(1)
    masks[empty] = regions.masks[empty]
    free = max(k for k in regions.keys) + 1  # a label no slot uses, for the former fallback slot
    keys = tuple(free if k == WHOLE else k for k in regions.keys)
    return Regions(masks, regions.weights, regions.styles, keys)


def state_hash(model: REST) -> str:
    """A short hash of a model's weights (the cache identity of weights that came with no file)."""
    h = hashlib.sha256()
    for k, v in sorted(model.state_dict().items()):
        h.update(k.encode())
        h.update(v.detach().cpu().numpy().tobytes())
    return h.hexdigest()[:16]
