"""The library API: :class:`Stylizer` turns RGB uint8 frames into stylized RGB uint8 frames.

    from rest_video import Stylizer
    st = Stylizer()                       # shipped weights, device auto
    style = st.load_style("style.jpg")    # statistics computed once (and cached on disk)
    out = st.stylize(frame, style)        # (H, W, 3) or (N, H, W, 3) uint8 -> same shape

    # mask-guided: each content region takes its look from the style's region of the same colour
    style = st.load_style("style.jpg", mask="style-mask.png")
    out = st.stylize(frame, style, content_mask=read_mask("mask.png", (w, h)))

The Stylizer decides the precision once (:class:`~rest_video.core.precision.Precision`), builds the
network's form for it and picks per call how frames run: whole, or in bands of rows when their
working memory would pass ``runtime.max_memory_mb`` (:mod:`rest_video.engine.tiling`, the same
output). Styles load through :class:`~rest_video.style.loader.StyleLoader`, masked frames run in
:mod:`rest_video.engine.masked`. It keeps no per-frame state: temporal smoothing lives in a
:class:`~rest_video.stream.smoothing.StatsSmoother` that the caller owns and passes in, and
process-wide settings are :func:`~rest_video.core.devices.apply_runtime`'s.
"""

from __future__ import annotations

import hashlib
import logging
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from rest_video.core.config import PipelineConfig, check_masks_method, check_strength
from rest_video.core.devices import resolve_device, resolve_dtype
from rest_video.core.errors import ConfigError
from rest_video.core.precision import Precision
from rest_video.engine.masked import MaskedStylizer, counted_only
from rest_video.engine.precision import decide_precision
from rest_video.engine.tensors import check_frames, frames_to_tensor, tensor_to_uint8
from rest_video.engine.tiling import TiledStylizer, TilePlan
from rest_video.models import REST, create_model, weights_identity
from rest_video.models.build import build_inference
from rest_video.models.inference import RESTInference
from rest_video.models.int8 import Int8Inference
from rest_video.ops.opacity import blend
from rest_video.ops.shadows import keep_shadow_detail
from rest_video.style import StatsFilter, StyleCache, StyleStats
from rest_video.style.loader import StyleLoader
from rest_video.style.regions import Regions, RegionStyle

__all__ = ["Stylizer", "counted_only", "state_hash"]

log = logging.getLogger(__name__)


class Stylizer:
    """REST inference on one device with one model in one precision; styles are passed per call
    as :class:`StyleStats`. Serves one thread at a time (the int8 form's scales follow one stream)."""

    def __init__(self, cfg: PipelineConfig | None = None, model: REST | None = None,
                 cache: StyleCache | None = None) -> None:
        self.cfg = cfg or PipelineConfig()
        rt = self.cfg.runtime
        self.device = resolve_device(rt.device)
        resolve_dtype(rt.precision, self.device)  # refuses what this device cannot run (int8 on CUDA)
        if model is None:
            model = create_model(self.cfg.model.name, checkpoint=self.cfg.model.checkpoint)
            self.weights_id = weights_identity(self.cfg.model.name, self.cfg.model.checkpoint)
        else:
            self.weights_id = state_hash(model)
        self.model = model.eval().requires_grad_(False).to(self.device)
        # precision_choice: what runtime.precision auto chose on the CPU, and why (else None)
        requested, self.precision_choice = decide_precision(rt, self.device, self.model, self.weights_id)
        self.net = build_inference(self.model, self.device, requested) if rt.optimized else self.model
        # the folded fp32 / bf16 / fp16 form (for int8: the one it runs around), else None
        self.float_net = self.net.fp32 if isinstance(self.net, Int8Inference) else self.net
        if not isinstance(self.float_net, RESTInference):
            self.float_net = None
        folded = self.float_net is not None
        self._precision = requested if folded else Precision.FP32  # the model itself runs fp32
        self.dtype = self._precision.dtype
        self.input_dtype = self.dtype  # the dtype float frames enter the network in (int8: fp32)
        self.method = self.cfg.model.method
        self.styles = StyleLoader(
            lambda img, cov: self.model.style_stats(self.to_tensor(img[None]).float(), with_cov=cov),
            lambda img, labels: self.model.region_style_stats(self.to_tensor(img[None]).float(),
                                                              torch.from_numpy(labels).to(self.device)),
            cache if cache is not None else StyleCache(), self.weights_id, self.cfg.style.max_side,
            self.model.cfg.stylized, self.model.cfg.width, self.device)
        self.masked = MaskedStylizer(self, self.cfg.masks)
        self.plan, self.tiled = None, None
        if folded:
            self.limit_memory(rt.max_memory_mb << 20)
        self._warned_whole = False

    @property
    def precision(self) -> Precision:
        """The precision in effect, decided once (it equals its name: ``st.precision == "int8"``)."""
        return self._precision

    @property
    def cache(self) -> StyleCache:
        """The style statistics' disk cache."""
        return self.styles.cache

    def limit_memory(self, budget: int) -> None:
        """Give the network's working memory ``budget`` bytes from now on (frames over it run in
        bands, with the same output): file mode's share of ``runtime.max_memory_mb`` once the
        queues, filters and codecs have theirs (:mod:`rest_video.pipeline.memory`). A no-op for
        the plain model (it has no estimate)."""
        if self.float_net is not None:
            self.plan = TilePlan(self.float_net, max(int(budget), 1))
            self.tiled = TiledStylizer(self.float_net, self.plan, self.input_dtype)

    def fits(self, frames: int, h: int, w: int, regions: int = 0) -> bool:
        """True when ``frames`` frames of ``h`` x ``w`` run whole within ``runtime.max_memory_mb``
        (larger ones run in bands); always True where there is no estimate (the plain model).
        ``regions``: the slots of a masked frame (their masks, weights and skips cost memory too)."""
        return self.plan is None or self.plan.fits(frames, h, w, regions)

    def resolve_strength(self, strength: float | None) -> float:
        """``strength`` range-checked, or the configured ``style.strength`` when None."""
        return self.cfg.style.strength if strength is None else check_strength(strength)

    def load_style(self, style: str | Path | np.ndarray, use_cache: bool | None = None, *,
                   mask: str | Path | np.ndarray | None = None) -> StyleStats | RegionStyle:
        """Statistics of a style image (path or RGB uint8 array), from the disk cache when possible;
        with ``mask`` a :class:`RegionStyle` (:meth:`StyleLoader.load`)."""
        use_cache = self.cfg.style.cache if use_cache is None else use_cache
        return self.styles.load(style, use_cache, with_cov=self.method == "wct", mask=mask,
                                method=self.method)

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
        masked = content_mask is not None or stats_mask is not None
        if masked:
            check_masks_method(self.method)
        single = frames.ndim == 3
        batch = check_frames(frames[None] if single else frames)
        strength = self.resolve_strength(strength)
        if masked:
            out = self.masked(batch, style, strength, stats_filter, content_mask, protect, stats_mask)
        elif strength <= 0.0:
            out = batch.copy()
        else:
            if isinstance(style, RegionStyle):
                style = style.whole
            out = blend(batch, self.finish(batch, self.run_frames(batch, style, stats_filter)), strength)
        return out[0] if single else out

    def finish(self, frames: np.ndarray, stylized: np.ndarray, work: dict | None = None) -> np.ndarray:
        """The network's uint8 output of ``frames`` with the shadow guard (``style.keep_shadows``,
        :func:`~rest_video.ops.shadows.keep_shadow_detail`): the full look as every path renders it.
        Safe from any thread; ``work``: the calling thread's scratch arrays, kept between frames."""
        return keep_shadow_detail(frames, stylized, work) if self.cfg.style.keep_shadows else stylized

    def run_frames(self, batch: np.ndarray, style: StyleStats, stats_filter: StatsFilter | None,
                   regions: Regions | None = None) -> np.ndarray:
        """The network's uint8 output (full strength, no shadow guard) of ``batch`` ``(N, H, W, 3)``:
        whole, or in bands when over the memory budget; ``regions``: masked AdaIN (one frame)."""
        n, h, w = batch.shape[:3]
        if regions is not None:
            if not self.fits(1, h, w, len(regions.keys)):
                return self.tiled(batch, style, 1.0, stats_filter, regions)
            y = self.net(self.to_tensor(batch), style, strength=1.0, method=self.method,
                         stats_filter=stats_filter, regions=regions)
            return tensor_to_uint8(y.clamp_(0.0, 1.0))
        if not self.fits(n, h, w):
            if self.method == "adain":
                return self.tiled(batch, style, 1.0, stats_filter)
            if not self._warned_whole:
                self._warned_whole = True
                log.warning("frames of %dx%d are over runtime.max_memory_mb=%d, but only AdaIN runs in "
                            "bands: running them whole", w, h, self.cfg.runtime.max_memory_mb)
        return tensor_to_uint8(self.stylize_tensor(self.input_tensor(batch), style, 1.0, stats_filter))

    @torch.inference_mode()
    def stylize_tensor(self, x: Tensor, style: StyleStats, strength: float,
                       stats_filter: StatsFilter | None = None) -> Tensor:
        """``(B, 3, H, W)`` float in [0, 1] on the device (or uint8 for the int8 form,
        :meth:`input_tensor`) -> stylized, float, same shape, clamped to [0, 1]."""
        y = self.net(x, style, strength=strength, method=self.method, stats_filter=stats_filter)
        return y.clamp_(0.0, 1.0)

    def to_tensor(self, batch: np.ndarray) -> Tensor:
        """``(N, H, W, 3)`` uint8 -> ``(N, 3, H, W)`` float in [0, 1] on the device, in the dtype the
        network takes."""
        return frames_to_tensor(batch, self.device, self.input_dtype)

    def input_tensor(self, batch: np.ndarray) -> Tensor:
        """Frames as the network takes them: :meth:`to_tensor`, except for the int8 form, which
        takes the uint8 frames themselves (a channels-last view of ``batch``, no conversion)."""
        if self._precision.takes_uint8:
            with warnings.catch_warnings():  # read-only frames: the network only reads them
                warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
                return torch.from_numpy(np.ascontiguousarray(batch)).permute(0, 3, 1, 2)
        return self.to_tensor(batch)


def state_hash(model: REST) -> str:
    """A short hash of a model's weights (the cache identity of weights that came with no file)."""
    h = hashlib.sha256()
    for k, v in sorted(model.state_dict().items()):
        h.update(k.encode())
        h.update(v.detach().cpu().numpy().tobytes())
    return h.hexdigest()[:16]
