"""Masked AdaIN in the folded inference form: each region of a frame takes its own statistics.

A region's content statistics come from the Gram moments of the features zeroed outside it (the
same blocks as the whole frame's, so bands give the same bits). The AdaIN map then varies per
pixel, so it cannot be folded into a conv: the stylized skips are built (``P r + p``, then each
pixel's map, :func:`~rest_video.ops.masked_adain.region_affine_`) and the decoder runs on them
unfolded, as for WCT. The functions take the :class:`~rest_video.models.inference.RESTInference`
they run on.
"""

from __future__ import annotations

import torch
from torch import Tensor

from rest_video.models.folding import Skip
from rest_video.models.moments import frame_moments
from rest_video.models.rest import check_regions
from rest_video.ops.masked_adain import RegionMaps, masked_rows, region_affine_
from rest_video.style import StatsFilter
from rest_video.style.regions import WHOLE, Regions


def forward_masked(net, content: Tensor, regions: Regions, strength: float,
                   stats_filter: StatsFilter | None, threads: int) -> Tensor:
    """``net`` on one frame ``content`` ``(1, 3, H, W)`` with masked AdaIN over ``regions``."""
    check_regions(content, "adain", regions)
    x = net.as_input(content)
    rs = net.encode(x, threads)
    stats = region_stats(net, rs, regions, threads)
    if stats_filter is not None:
        stats = stats_filter(stats)
    maps = region_maps(net, stats, regions, strength)
    skips = {
        layer: Skip(region_skip(net, rs[layer - 1], layer, maps[layer], regions.weights))
        for layer in net.cfg.stylized
    }
    return net.decode(skips, x.shape, threads)


def region_stats(net, rs: list[Tensor], regions: Regions, threads: int) -> dict:
    """Content statistics of masked AdaIN (as :meth:`REST.region_content_stats`) from the encoder
    outputs ``rs`` of one frame: ``layer -> (mean, std)`` of the whole frame (for the fallback
    slot) and ``(layer, label) -> (mean, std)`` inside each region."""
    counts = regions.masks.flatten(1).sum(1).tolist()
    stats: dict = {}
    for layer in net.cfg.stylized:
        r = rs[layer - 1]
        for k, key in enumerate(regions.keys):
            if key == WHOLE:
                stats[layer] = net.feat_stats(r, layer, threads)
                continue
            G, S = frame_moments(region_pixels(r, regions.masks[k]), net.ones)
            stats[(layer, key)] = net.stats_from_moments(layer, G[None], S[None], int(counts[k]))
    return stats


def region_pixels(r: Tensor, mask: Tensor) -> Tensor:
    """``(N, C)`` fp32 features of one frame's ``r`` ``(1, C, H, W)`` in raster order, zero
    outside ``mask`` (``(H, W)``, or ``(N, 1)`` float already flat)."""
    C = r.shape[1]
    return masked_rows(r.permute(0, 2, 3, 1).reshape(-1, C), mask)  # a view for channels_last r


def region_maps(net, stats: dict, regions: Regions, strength: float) -> dict[int, RegionMaps]:
    """Per stylized layer, what :func:`region_skip` needs: the slots' content and style means and
    stds stacked ``(K, C)`` fp32 on the device, and ``strength``."""
    out = {}
    for layer in net.cfg.stylized:
        cs = [stats[layer if key == WHOLE else (layer, key)] for key in regions.keys]
        ss = [(st.mean[layer], st.std[layer]) for st in regions.styles]
        out[layer] = RegionMaps(_rows(net, cs, 0), _rows(net, cs, 1), _rows(net, ss, 0), _rows(net, ss, 1),
                            float(strength))
    return out


def region_skip(net, r: Tensor, layer: int, maps: RegionMaps, weights: Tensor) -> Tensor:
    """The stylized skip of one frame (or band) ``r`` ``(1, C, H, W)`` at ``layer``: the projected
    features ``P r + p``, each pixel mapped by AdaIN of its regions' statistics blended by
    ``weights`` ``(K, H, W)``; ``(1, C, H, W)`` channels_last in the compute dtype."""
    _, C, H, W = r.shape
    P, p = net.folded.proj[layer]
    R = r.permute(0, 2, 3, 1).reshape(H * W, C).float()
    f = torch.addmm(p.float(), R, P.float().T)
    region_affine_(f, weights.reshape(weights.shape[0], H * W), maps)
    return f.view(1, H, W, C).permute(0, 3, 1, 2).to(net.dtype)


def _rows(net, pairs: list, i: int) -> Tensor:
    """Item ``i`` (mean or std) of each ``(mean, std)`` pair, stacked ``(K, C)`` fp32 on ``net``'s device."""
    return torch.stack([p[i].to(net.device, torch.float32).flatten() for p in pairs])
