"""REST: resolution-preserving encoder/decoder with progressive AdaIN (paper sections 3.1, 3.3).

Blocks first, then the network, then the registered variants.

- :class:`RPConvBlock`: replication pad, 3x3 conv stride 1, BatchNorm, ReLU, 1x1 conv.
- :class:`RPEncoder`: ``layers`` blocks of ``width`` channels, every output at the input's size.
- :class:`RPDecoder`: mirrors the encoder with 3x3 conv + ReLU blocks; after each block the
  stylized encoder features of the matching layer (skip connection) are concatenated.
- :class:`REST`: encoder + stylization at ``stylized`` layers + decoder.

The ``aest`` variant (the paper's ablation) inserts a 2x2 max-pool after every encoder block but
the last and a nearest upsample before the matching decoder block.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rest_video.core.config import MAX_LAYERS, MAX_WIDTH, check_masks_method
from rest_video.core.errors import ConfigError, ShapeError
from rest_video.ops.masked_adain import masked_adain, region_mean_std
from rest_video.ops.stats import adain_affine, covariance, mean_std, wct
from rest_video.style.regions import WHOLE, Regions, RegionStyle
from rest_video.style.stats import StatsFilter, StyleStats

__all__ = ["RESTConfig", "RPConvBlock", "RPEncoder", "RPDecoder", "REST", "StyleStats", "check_image"]


@dataclass(frozen=True)
class RESTConfig:
    """Architecture of a REST network (defaults as in the paper)."""

    layers: int = 5
    width: int = 16
    stylized: tuple[int, ...] = (3, 4, 5)  # 1-based encoder layers that get AdaIN
    variant: str = "rest"  # "rest" (resolution preserving) or "aest" (pool / upsample ablation)

    def __post_init__(self) -> None:
        if not 2 <= self.layers <= MAX_LAYERS:
            raise ConfigError(f"model.layers must be in 2..{MAX_LAYERS}, got {self.layers}")
        if not 1 <= self.width <= MAX_WIDTH:
            raise ConfigError(f"model.width must be in 1..{MAX_WIDTH}, got {self.width}")
        if not self.stylized or any(not 1 <= layer <= self.layers for layer in self.stylized):
            raise ConfigError(
                f"model.stylized must name layers in 1..{self.layers}, got {list(self.stylized)}"
            )
        if self.layers not in self.stylized:
            raise ConfigError("model.stylized must include the last layer (the decoder's input)")
        if self.variant not in ("rest", "aest"):
            raise ConfigError(f"model.variant must be 'rest' or 'aest', got {self.variant!r}")
        object.__setattr__(self, "stylized", tuple(sorted(set(int(layer) for layer in self.stylized))))

    def to_dict(self) -> dict:
        d = asdict(self)
        d["stylized"] = list(self.stylized)
        return d


class RPConvBlock(nn.Module):
    """Replication pad + 3x3 conv (stride 1) + BatchNorm + ReLU + 1x1 conv. Keeps H x W.

    Shape: ``(B, C_in, H, W) -> (B, C_out, H, W)``.
    """

    def __init__(self, in_ch: int, out_ch: int) -> None:
        super().__init__()
        self.pad = nn.ReplicationPad2d(1)
        self.conv = nn.Conv2d(in_ch, out_ch, 3, stride=1, padding=0)
        self.bn = nn.BatchNorm2d(out_ch)
        self.relu = nn.ReLU(inplace=True)
        self.proj = nn.Conv2d(out_ch, out_ch, 1)

    def forward(self, x: Tensor) -> Tensor:
        return self.proj(self.relu(self.bn(self.conv(self.pad(x)))))


class DecoderBlock(nn.Module):
    """Replication pad + 3x3 conv (+ ReLU unless it is the RGB output block)."""

    def __init__(self, in_ch: int, out_ch: int, relu: bool = True) -> None:
        super().__init__()
        self.pad = nn.ReplicationPad2d(1)
        self.conv = nn.Conv2d(in_ch, out_ch, 3, stride=1, padding=0)
        self.relu = nn.ReLU(inplace=True) if relu else nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        return self.relu(self.conv(self.pad(x)))


class RPEncoder(nn.Module):
    """``layers`` RPConvBlocks; returns the output of every block (1-based layer l at index l-1)."""

    def __init__(self, cfg: RESTConfig) -> None:
        super().__init__()
        self.cfg = cfg
        chans = [3] + [cfg.width] * cfg.layers
        self.blocks = nn.ModuleList(RPConvBlock(chans[i], chans[i + 1]) for i in range(cfg.layers))

    def forward(self, x: Tensor, upto: int | None = None) -> list[Tensor]:
        feats = []
        n = self.cfg.layers if upto is None else upto
        for i, block in enumerate(self.blocks[:n]):
            if self.cfg.variant == "aest" and i > 0:
                x = F.max_pool2d(x, 2)
            x = block(x)
            feats.append(x)
        return feats


class RPDecoder(nn.Module):
    """Mirror of the encoder: 3x3 conv + ReLU blocks, concatenating skip features of stylized layers."""

    def __init__(self, cfg: RESTConfig) -> None:
        super().__init__()
        self.cfg = cfg
        blocks = []
        for k in range(cfg.layers):  # block k consumes features of encoder layer L - k
            layer = cfg.layers - k
            in_ch = cfg.width * (2 if (layer in cfg.stylized and k > 0) else 1)
            last = k == cfg.layers - 1
            blocks.append(DecoderBlock(in_ch, 3 if last else cfg.width, relu=not last))
        self.blocks = nn.ModuleList(blocks)

    def forward(self, skips: dict[int, Tensor]) -> Tensor:
        """Decode from stylized features ``skips`` (layer -> tensor, must contain the last layer)."""
        L = self.cfg.layers
        x = skips[L]
        for k, block in enumerate(self.blocks):
            layer = L - k
            if k > 0:
                if self.cfg.variant == "aest":
                    x = F.interpolate(x, scale_factor=2, mode="nearest")
                if layer in self.cfg.stylized:
                    x = torch.cat([x, skips[layer]], dim=1)
            x = block(x)
        return x


class REST(nn.Module):
    """The REST network: encoder, progressive stylization, decoder.

    Input and output images are RGB float in ``[0, 1]``, ``(B, 3, H, W)``; the output has the
    input's H x W for every size (the ``aest`` ablation pads internally to a multiple of 2**(L-1)).
    """

    def __init__(self, cfg: RESTConfig | None = None) -> None:
        super().__init__()
        self.cfg = cfg or RESTConfig()
        self.encoder = RPEncoder(self.cfg)
        self.decoder = RPDecoder(self.cfg)

    # -- style statistics ---------------------------------------------------------------
    @torch.no_grad()
    def style_stats(self, style: Tensor, with_cov: bool = False) -> StyleStats:
        """Per-layer mean/std (and optionally covariance) of a style image's features.

        Args:
            style: ``(1, 3, H, W)`` RGB in ``[0, 1]``.
        """
        check_image(style)
        feats = self.encoder(self._pad(style)[0])
        st = StyleStats({}, {})
        for layer in self.cfg.stylized:
            m, s = mean_std(feats[layer - 1])
            st.mean[layer], st.std[layer] = m, s
            if with_cov:
                cm, cv = covariance(feats[layer - 1])
                st.cov_mean[layer], st.cov[layer] = cm.float(), cv.float()
        return st

    @torch.no_grad()
    def region_style_stats(self, style: Tensor, labels: Tensor) -> RegionStyle:
        """Per-layer mean/std of a style image's features, whole and inside each label of its mask.

        Args:
            style: ``(1, 3, H, W)`` RGB in ``[0, 1]``.
            labels: ``(H, W)`` integer labels of the style's mask.
        """
        check_image(style)
        if tuple(labels.shape) != tuple(style.shape[-2:]):
            raise ShapeError(
                f"style mask {tuple(labels.shape)} does not fit the style {tuple(style.shape[-2:])}"
            )
        whole = self.style_stats(style)
        feats = self.encoder(self._pad(style)[0])
        h, w = labels.shape
        regions, pixels = {}, {}
        for lab in torch.unique(labels).tolist():
            inside = labels == lab
            n = int(inside.sum())
            pixels[int(lab)] = n
            if n == h * w:  # the whole image: the same statistics, bit for bit
                regions[int(lab)] = whole
                continue
            st = StyleStats({}, {})
            for layer in self.cfg.stylized:
                st.mean[layer], st.std[layer] = region_mean_std(feats[layer - 1][..., :h, :w], inside)
            regions[int(lab)] = st
        return RegionStyle(whole, regions, pixels, h * w)

    # -- forward ------------------------------------------------------------------------
    def region_content_stats(self, feats: list[Tensor], regions: Regions) -> dict:
        """Content statistics for masked AdaIN: ``layer -> (mean, std)`` of the whole frame (when a
        slot falls back to it) and ``(layer, label) -> (mean, std)`` inside each region."""
        stats: dict = {}
        for layer in self.cfg.stylized:
            for k, key in enumerate(regions.keys):
                if key == WHOLE:
                    stats[layer] = mean_std(feats[layer - 1])
                else:
                    stats[(layer, key)] = region_mean_std(feats[layer - 1], regions.masks[k])
        return stats

    def masked_features(self, feats: list[Tensor], regions: Regions, strength: float,
                        content_stats: dict) -> dict[int, Tensor]:
        """Masked AdaIN at the stylized layers (:meth:`region_content_stats` gives ``content_stats``)."""
        out = {}
        for layer in self.cfg.stylized:
            cs = [content_stats[layer if key == WHOLE else (layer, key)] for key in regions.keys]
            ss = [(st.mean[layer], st.std[layer]) for st in regions.styles]
            out[layer] = masked_adain(feats[layer - 1], regions.weights, cs, ss, strength)
        return out

    def stylize_features(self, feats: list[Tensor], style: StyleStats, strength: float = 1.0,
                         method: str = "adain",
                         content_stats: dict[int, tuple[Tensor, Tensor]] | None = None) -> dict[int, Tensor]:
        """Apply AdaIN (or WCT) at the stylized layers; returns layer -> stylized features."""
        out = {}
        for layer in self.cfg.stylized:
            f = feats[layer - 1]
            if method == "wct":
                if layer not in style.cov:
                    raise ConfigError("WCT needs style statistics computed with with_cov=True")
                out[layer] = wct(f, style.cov_mean[layer], style.cov[layer], strength)
            elif method == "adain":
                cs = content_stats[layer] if content_stats and layer in content_stats else mean_std(f)
                scale, shift = adain_affine(cs[0], cs[1], style.mean[layer], style.std[layer], strength)
                out[layer] = (f.float() * scale + shift).to(f.dtype)
            else:
                raise ConfigError(f"stylization method must be 'adain' or 'wct', got {method!r}")
        return out

    def forward(self, content: Tensor, style: StyleStats | Tensor, strength: float = 1.0,
                method: str = "adain", stats_filter: StatsFilter | None = None,
                regions: Regions | None = None) -> Tensor:
        """Stylize ``content`` ``(B, 3, H, W)`` with a style image or precomputed :class:`StyleStats`.

        ``stats_filter`` (optional) receives the content statistics ``{layer: (mean, std)}`` of this
        call and returns the ones AdaIN should use (temporal smoothing); it is not kept.
        ``regions`` (one frame, AdaIN; :func:`~rest_video.style.regions.plan_regions`): masked
        AdaIN, each region with its own statistics (``style`` is then unused).
        """
        check_image(content)
        if regions is not None:
            check_regions(content, method, regions, self.cfg.variant)
            feats = self.encoder(content)
            stats = self.region_content_stats(feats, regions)
            if stats_filter is not None:
                stats = stats_filter(stats)
            return self.decoder(self.masked_features(feats, regions, strength, stats))
        if isinstance(style, Tensor):
            style = self.batch_style_stats(style)
        x, crop = self._pad(content)
        feats = self.encoder(x)
        content_stats = None
        if stats_filter is not None and method == "adain":
            content_stats = stats_filter({layer: mean_std(feats[layer - 1]) for layer in self.cfg.stylized})
        out = self.decoder(self.stylize_features(feats, style, strength, method, content_stats))
        return out[..., : crop[0], : crop[1]]

    def forward_train(self, content: Tensor, style: Tensor) -> tuple[Tensor, list[Tensor], list[Tensor]]:
        """Training forward: output image plus the encoder features of content and style (for
        distillation)."""
        c_feats = self.encoder(content)
        s_feats = self.encoder(style)
        skips = {}
        for layer in self.cfg.stylized:
            cm, cs = mean_std(c_feats[layer - 1])
            sm, ss = mean_std(s_feats[layer - 1])
            scale, shift = adain_affine(cm, cs, sm, ss, 1.0)
            skips[layer] = c_feats[layer - 1] * scale + shift
        return self.decoder(skips), c_feats, s_feats

    def batch_style_stats(self, style: Tensor) -> StyleStats:
        check_image(style)
        feats = self.encoder(self._pad(style)[0])
        st = StyleStats({}, {})
        for layer in self.cfg.stylized:
            st.mean[layer], st.std[layer] = mean_std(feats[layer - 1])
        return st

    def _pad(self, x: Tensor) -> tuple[Tensor, tuple[int, int]]:
        h, w = x.shape[-2:]
        if self.cfg.variant != "aest":
            return x, (h, w)
        m = 2 ** (self.cfg.layers - 1)
        ph, pw = (-h) % m, (-w) % m
        if ph or pw:
            x = F.pad(x, (0, pw, 0, ph), mode="replicate")
        return x, (h, w)


def check_regions(content: Tensor, method: str, regions: Regions, variant: str = "rest") -> None:
    """What masked AdaIN needs: one frame, AdaIN, masks of the frame's size, the REST variant."""
    check_masks_method(method)
    if variant != "rest":
        raise ConfigError("masks need the resolution-preserving 'rest' variant")
    if content.shape[0] != 1:
        raise ShapeError(f"masked stylization takes one frame at a time, got a batch of {content.shape[0]}")
    if tuple(regions.masks.shape[1:]) != tuple(content.shape[-2:]):
        raise ShapeError(
            f"mask {tuple(regions.masks.shape[1:])} does not fit the frame {tuple(content.shape[-2:])}"
        )


def check_image(x: Tensor) -> None:
    if x.dim() != 4 or x.shape[1] != 3:
        raise ShapeError(f"expected an RGB batch (B, 3, H, W), got shape {tuple(x.shape)}")
