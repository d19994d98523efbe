"""Quality metrics, the one place they are written: structure (SSIM), style (Gram loss), look
(palette distance), fidelity (PSNR) and temporal stability (flicker). Used by ``rest-video eval``,
``rest-video lut`` and the lab scripts in ``tools/``.

- **SSIM** (content fidelity, higher is better): grayscale output vs grayscale content (BT.601
  luma) with ``kornia.metrics.ssim``: 11x11 Gaussian window (sigma 1.5), data range 1,
  ``padding="valid"`` (the 5-pixel border is not scored, as in Wang et al. 2004), mean of the map.
- **Gram loss** (style distance, lower is better): ``sum_l ||G_l(out) - G_l(style)||_F^2`` over
  relu1_1 .. relu5_1 of a frozen VGG teacher, ``G = F F^T / (C H W)``.
- **palette distance** (look taken, lower is better): sliced Wasserstein-1 distance between two
  images' pixel colours in CIE Lab (64 seeded directions, 20,000 pixels each, 100 quantiles).
- **PSNR**: dB of a stream against a reference stream (8-bit levels).
- **shadows** (dark styles keep their detail): the share of crushed pixels (every channel at or
  below 2 levels), and the gradient correlation (cosine of the output's and the content's luma
  gradient fields: blind to a darker or brighter tone, which scales gradients, and lowered by
  detail lost), over the frame and over the content's shadows (luma <= 64).
- **flicker**: ``sum_t mean|out_t - out_{t-1}| / sum_t mean|in_t - in_{t-1}|`` over consecutive
  frames, with the change on still pixels, the motion floor and the trails a temporal filter leaves.
"""

from __future__ import annotations

from typing import Callable, Iterable, Sequence

import cv2
import numpy as np
import torch
from torch import Tensor

from rest_video.core.errors import ShapeError
from rest_video.ops.color import motion_map
from rest_video.ops.palette import rgb_to_lab

GRAY_WEIGHTS = (0.299, 0.587, 0.114)  # ITU-R BT.601 luma, as cv2.COLOR_RGB2GRAY
SSIM_WINDOW = 11
STILL = 2  # input pixels whose channels all changed by at most this many levels count as still
LAG = 16   # a filtered output pixel this many levels away from the per-frame output counts as lagging

Teacher = Callable[[Tensor], Sequence[Tensor]]
"""A frozen feature extractor: ``(1, 3, H, W)`` in [0, 1] -> relu1_1 .. relu5_1 features (a VGG teacher)."""


# --------------------------------------------------------------------------- single images
def to_gray(img: np.ndarray) -> Tensor:
    """``(H, W, 3)`` RGB uint8 -> ``(1, 1, H, W)`` float32 luma in [0, 1] (BT.601 weights)."""
    x = torch.from_numpy(np.ascontiguousarray(img)).float().div_(255.0)
    w = torch.tensor(GRAY_WEIGHTS, dtype=torch.float32)
    return (x * w).sum(-1)[None, None]


def ssim_gray(output: np.ndarray, content: np.ndarray) -> float:
    """Mean SSIM between grayscale ``output`` and ``content``, both ``(H, W, 3)`` RGB uint8, same size.

    11x11 Gaussian window (sigma 1.5), data range 1, valid region only (``kornia.metrics.ssim``).
    """
    import kornia

    if output.shape != content.shape:
        raise ShapeError(f"output {tuple(output.shape)} must have the content's shape {tuple(content.shape)}")
    if min(content.shape[:2]) < SSIM_WINDOW:
        raise ShapeError(
            f"SSIM needs images of at least {SSIM_WINDOW}x{SSIM_WINDOW}, got {content.shape[:2]}"
        )
    m = kornia.metrics.ssim(to_gray(output), to_gray(content), SSIM_WINDOW, max_val=1.0, padding="valid")
    return float(m.mean())


CRUSHED = 2  # a pixel whose channels are all at or below this many levels is crushed to black


def crushed_share(img: np.ndarray, level: int = CRUSHED) -> float:
    """Share of the pixels of ``(H, W, 3)`` uint8 ``img`` whose every channel is <= ``level``.

    >>> crushed_share(np.array([[[0, 2, 1], [3, 0, 0]]], np.uint8))
    0.5
    """
    return float((img.max(axis=-1) <= level).mean())


DETAIL_WINDOW = 9    # px: the windows gradient correlation is measured in
DETAIL_FLOOR = 8.0   # RMS Sobel response (about 2 levels a pixel) below which a content window counts as flat
SHADOW_LUMA = 64     # content pixels at or below this luma (a quarter of the range) are shadows


def gradient_correlation(output: np.ndarray, content: np.ndarray, where: np.ndarray | None = None) -> float:
    """Detail kept: the cosine of the luma gradient fields (Sobel x and y) of ``output`` and
    ``content`` (``(H, W, 3)`` RGB uint8, same size) in each 9x9 window, averaged over the windows
    where the content has detail (RMS gradient above :data:`DETAIL_FLOOR`) and, with ``where``, whose
    centre is set there. Every window counts the same, so faint shadow detail weighs as much as a
    bright edge. 1: the same detail, whatever the gain (a darker tone keeps it); 0 where the output
    went flat (crushed); 1.0 when the content has no detail there.

    >>> a = np.tile(np.arange(0, 200, 10, dtype=np.uint8)[None, :, None], (12, 1, 3))
    >>> round(gradient_correlation(a // 2, a), 3), round(gradient_correlation(np.zeros_like(a), a), 3)
    (1.0, 0.0)
    """
    if output.shape != content.shape:
        raise ShapeError(f"output {tuple(output.shape)} must have the content's shape {tuple(content.shape)}")

    def grads(img: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        g = img.astype(np.float32) @ np.asarray(GRAY_WEIGHTS, np.float32)
        return cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3), cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3)

    (ax, ay), (bx, by) = grads(output), grads(content)
    k = (DETAIL_WINDOW, DETAIL_WINDOW)

    def box(x: np.ndarray) -> np.ndarray:
        return cv2.boxFilter(x, cv2.CV_32F, k, borderType=cv2.BORDER_REFLECT)

    ab, aa, bb = box(ax * bx + ay * by), box(ax * ax + ay * ay), box(bx * bx + by * by)
    cos = ab / np.sqrt(np.maximum(aa * bb, 1e-12))
    valid = bb > DETAIL_FLOOR ** 2
    if where is not None:
        valid &= where
    return float(cos[valid].mean()) if valid.any() else 1.0


def shadow_detail(output: np.ndarray, content: np.ndarray, level: int = SHADOW_LUMA) -> float:
    """:func:`gradient_correlation` over the content's shadows (luma <= ``level``): whether their
    detail survives a dark look (1.0 when the content has no shadow detail)."""
    luma = content.astype(np.float32) @ np.asarray(GRAY_WEIGHTS, np.float32)
    return gradient_correlation(output, content, luma <= level)


def gram(feat: Tensor) -> Tensor:
    """Gram matrices ``F F^T / (C H W)``: ``(B, C, H, W)`` -> ``(B, C, C)`` float32."""
    b, c, h, w = feat.shape
    f = feat.float().reshape(b, c, h * w)
    return torch.bmm(f, f.transpose(1, 2)) / float(c * h * w)


@torch.inference_mode()
def gram_matrices(teacher: Teacher, img: np.ndarray) -> list[Tensor]:
    """Gram matrices of the teacher's relu1_1 .. relu5_1 for one ``(H, W, 3)`` RGB uint8 image.

    Returns 5 tensors ``(C_l, C_l)`` (64, 128, 256, 512, 512 for VGG).
    """
    x = torch.from_numpy(np.ascontiguousarray(img)).permute(2, 0, 1)[None].float().div_(255.0)
    return [gram(f)[0] for f in teacher(x)]


def gram_loss(a: Sequence[Tensor], b: Sequence[Tensor]) -> float:
    """``sum_l ||a_l - b_l||_F^2`` over matching lists of ``(C_l, C_l)`` Gram matrices."""
    if len(a) != len(b):
        raise ShapeError(f"Gram lists differ in length: {len(a)} vs {len(b)}")
    return float(sum(((x.double() - y.double()) ** 2).sum() for x, y in zip(a, b, strict=False)))


def style_distance(teacher: Teacher, output: np.ndarray, style: np.ndarray) -> float:
    """Gram loss between an output ``(H, W, 3)`` and a style ``(h, w, 3)`` image (RGB uint8)."""
    return gram_loss(gram_matrices(teacher, output), gram_matrices(teacher, style))


PALETTE_DIRECTIONS = 64
PALETTE_SAMPLES = 20_000
PALETTE_QUANTILES = np.linspace(0.005, 0.995, 100)
PALETTE_SEED = 0


def unit_directions(n: int, seed: int) -> np.ndarray:
    d = np.random.default_rng(seed).normal(size=(n, 3))
    return d / np.linalg.norm(d, axis=1, keepdims=True)


def lab_samples(img: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` Lab colours (float64 ``(n, 3)``) of an ``(H, W, 3)`` RGB uint8 image.

    An image with at most ``n`` pixels gives all of them (so the result cannot depend on pixel order);
    a larger one gives ``n`` pixels drawn without replacement.
    """
    if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8:
        raise ShapeError(
            f"palette distance needs (H, W, 3) uint8 RGB images, got {img.dtype} {tuple(img.shape)}"
        )
    px = img.reshape(-1, 3)
    if len(px) > n:
        px = px[rng.choice(len(px), n, replace=False)]
    t = torch.from_numpy(np.ascontiguousarray(px.T)).float().div_(255.0)[:, :, None]  # (3, n, 1)
    return rgb_to_lab(t)[:, :, 0].T.double().numpy()


def palette_distance(image: np.ndarray, reference: np.ndarray, directions: int = PALETTE_DIRECTIONS,
                     samples: int = PALETTE_SAMPLES, seed: int = PALETTE_SEED) -> float:
    """Sliced Wasserstein-1 distance between the pixel colours of two RGB uint8 images, in Lab units.

    ``directions`` fixed random unit directions in Lab (seeded), ``samples`` pixels of each image;
    both samples are projected on each direction and their 100 quantiles at 0.5 % .. 99.5 % compared;
    the result is the mean absolute difference. 0 for identical colour distributions; sizes may differ.
    """
    rng = np.random.default_rng(seed)
    a = lab_samples(image, samples, rng)
    b = lab_samples(reference, samples, rng)
    dirs = unit_directions(directions, seed)
    qa = np.quantile(a @ dirs.T, PALETTE_QUANTILES, axis=0)
    qb = np.quantile(b @ dirs.T, PALETTE_QUANTILES, axis=0)
    return float(np.abs(qa - qb).mean())


def psnr(outputs: Iterable[np.ndarray], reference: Iterable[np.ndarray]) -> float:
    """PSNR (dB, 8-bit levels) of a stream of frames against a reference stream, over all the frames
    together (one image: pass ``[a]``, ``[b]``); ``inf`` when they are equal."""
    sq = n = 0.0
    for o, r in zip(outputs, reference, strict=False):
        d = o.astype(np.float32) - r
        sq += float(np.dot(d.ravel(), d.ravel()))
        n += d.size
    return float("inf") if sq == 0 else 10 * float(np.log10(255.0 ** 2 * n / sq))


# --------------------------------------------------------------------------- streams (flicker)
def flicker_ratio(inputs: Sequence[np.ndarray], outputs: Sequence[np.ndarray]) -> float:
    """``sum mean|out_t - out_{t-1}| / sum mean|in_t - in_{t-1}|`` over consecutive frames."""
    if len(inputs) != len(outputs) or len(inputs) < 2:
        raise ValueError("need the same number (>= 2) of input and output frames")
    d_in = d_out = 0.0
    for t in range(1, len(inputs)):
        d_in += float(cv2.absdiff(inputs[t], inputs[t - 1]).mean())
        d_out += float(cv2.absdiff(outputs[t], outputs[t - 1]).mean())
    return d_out / d_in if d_in > 0 else float("inf")


def still_change(inputs: Sequence[np.ndarray], outputs: Sequence[np.ndarray], still: int = STILL) -> float:
    """Mean ``|out_t - out_{t-1}|`` (levels) over pixels whose input channels all changed by <= ``still``."""
    total = count = 0.0
    for t in range(1, len(inputs)):
        mask = cv2.absdiff(inputs[t], inputs[t - 1]).max(axis=-1) <= still
        total += float(cv2.absdiff(outputs[t], outputs[t - 1]).sum(axis=-1)[mask].sum()) / 3
        count += float(mask.sum())
    return total / count if count else 0.0


def still_change_ycc(
    inputs: Sequence[np.ndarray], outputs: Sequence[np.ndarray], still: int = STILL
) -> np.ndarray:
    """Mean ``|change|`` of luma and chroma ``(Y, Cr, Cb)`` in levels, over the pixels whose input
    stood still (as :func:`still_change`): where the stylized stream's flicker sits."""
    total, count = np.zeros(3), 0
    prev = None
    for t in range(len(inputs)):
        ycc = cv2.cvtColor(np.ascontiguousarray(outputs[t]).astype(np.float32), cv2.COLOR_RGB2YCrCb)
        if prev is not None:
            mask = cv2.absdiff(inputs[t], inputs[t - 1]).max(axis=-1) <= still
            total += np.abs(ycc - prev)[mask].sum(axis=0)
            count += int(mask.sum())
        prev = ycc
    return total / count if count else total


def motion_floor(inputs: Sequence[np.ndarray], outputs: Sequence[np.ndarray], moving: float = 16.0,
                 radius: int = 5, blur: int = 2, still: int | None = None) -> float:
    """The flicker ratio that comes from clear motion alone.

    Only output change on pixels whose input clearly moved (:func:`~rest_video.ops.color.motion_map`
    above ``moving`` levels, ``temporal.moving``) is counted: the picture's own motion, which the
    pixel stabilizer passes through untouched and no temporal filter should remove.
    ``1 - floor / flicker`` bounds what a filter that keeps such motion can take off.

    With ``still``, only those of these pixels whose own input stood still (every channel within
    ``still`` levels) count: the *halo*, change the network spreads from the motion into the
    unchanged pixels around it (its window reaches ``radius`` pixels). A pixel-wise colour transfer
    has none; ``floor - halo`` is the change of the pixels that did change, i.e. how far apart the
    look puts the colours that moved.
    """
    d_in = d_out = 0.0
    for t in range(1, len(inputs)):
        change = cv2.absdiff(inputs[t], inputs[t - 1])
        d_in += float(change.mean())
        moved = motion_map(inputs[t], inputs[t - 1], radius, blur) > moving
        if still is not None:
            moved &= change.max(axis=-1) <= still
        d_out += float(cv2.absdiff(outputs[t], outputs[t - 1])[moved].sum()) / outputs[t].size
    return d_out / d_in if d_in > 0 else float("inf")


def edge_gain(inputs: Sequence[np.ndarray], outputs: Sequence[np.ndarray], moving: float = 16.0,
              radius: int = 5, blur: int = 2) -> tuple[float, float]:
    """How much contrast the output draws against the input's: the mean one-pixel difference to
    the right and lower neighbours (all channels) of the outputs over the inputs', over every pixel
    and over the pixels that clearly moved (as :func:`motion_floor`, frames after the first).
    ``motion_floor / moving gain`` is the flicker per unit of moving-edge contrast: how much a look
    flickers for the contrast it draws where things move (a global colour transfer's is the scale).
    """
    def edges(img: np.ndarray) -> np.ndarray:
        x = img.astype(np.int16)
        e = np.zeros(img.shape[:2], np.float32)
        e[:, :-1] += np.abs(x[:, 1:] - x[:, :-1]).sum(-1)
        e[:-1] += np.abs(x[1:] - x[:-1]).sum(-1)
        return e

    all_in = all_out = mov_in = mov_out = 0.0
    for t in range(1, len(inputs)):
        ei, eo = edges(inputs[t]), edges(outputs[t])
        all_in, all_out = all_in + float(ei.sum()), all_out + float(eo.sum())
        moved = motion_map(inputs[t], inputs[t - 1], radius, blur) > moving
        mov_in, mov_out = mov_in + float(ei[moved].sum()), mov_out + float(eo[moved].sum())
    return _ratio(all_out, all_in), _ratio(mov_out, mov_in)


def _ratio(o: float, i: float) -> float:
    return o / i if i > 0 else float("nan")


def lag_share(filtered: Sequence[np.ndarray], raw: Sequence[np.ndarray], levels: int = LAG) -> float:
    """Share of pixels where a temporally filtered output is more than ``levels`` away (any channel)
    from the per-frame output: trails left where motion was taken for stillness."""
    return float(
        np.mean(
            [(cv2.absdiff(f, r).max(axis=2) > levels).mean() for f, r in zip(filtered, raw, strict=False)]
        )
    )
