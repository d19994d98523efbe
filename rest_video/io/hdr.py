"""HDR video (BT.2100: BT.2020 primaries with the PQ or HLG transfer) to the network's SDR domain
and back (README, "HDR").

The forward map, from the non-linear BT.2020 signal ``E'`` to 8-bit SDR:

1. display light in nits: PQ's EOTF (SMPTE ST 2084); HLG's inverse OETF and the BT.2100 OOTF at a
   1000-nit display (gamma 1.2 on the luminance);
2. per channel extended Reinhard on ``x = L / 203`` (203 nits: BT.2408's reference white),
   ``y = x (1 + x / w^2) / (1 + x)``, white point ``w`` at the format's peak (PQ 10000 nits, HLG
   1000), so nothing below the peak clips and the curve has an exact inverse;
3. a pure 1/2.4 power (BT.1886's display gamma inverted) to 8 bits.

The primaries stay BT.2020's: converting to BT.709 clips every colour outside BT.709, which then
cannot come back (measured on 64x48 test clips: luma 23-85 10-bit codes off on average, against
0.6-1.7 with the primaries kept); the network sees the colours a little desaturated instead.
:func:`hdr_from_sdr` runs the same steps backwards (exactly, up to the 8-bit rounding of step 3);
:func:`bt709_from_sdr` turns the SDR domain into SDR BT.709 (``--sdr``, and stills from HDR video).
Pure numpy on ``(H, W, 3)`` arrays: the formulas in float64, the per-frame maps
(:func:`sdr_from_hdr16`, :func:`hdr16_from_sdr`) by tables, within one step of the formulas.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

import numpy as np

TRC_PQ, TRC_HLG = 16, 18
REF_WHITE = 203.0
PEAK = {TRC_PQ: 10000.0, TRC_HLG: 1000.0}
GAMMA = 2.4

LUMA_2020 = np.array([0.2627, 0.6780, 0.0593])

# SMPTE ST 2084
M1, M2 = 2610 / 16384, 2523 / 4096 * 128
C1, C2, C3 = 3424 / 4096, 2413 / 4096 * 32, 2392 / 4096 * 32
# ARIB STD-B67 (HLG)
A = 0.17883277
B = 1 - 4 * A
C = 0.5 - A * np.log(4 * A)
HLG_PEAK, HLG_GAMMA = 1000.0, 1.2
BT2020_TO_709 = np.array([[1.660491, -0.587641, -0.072850],
                          [-0.124550, 1.132900, -0.008349],
                          [-0.018151, -0.100579, 1.118730]], np.float32)


def pq_eotf(e: np.ndarray) -> np.ndarray:
    """PQ signal [0, 1] -> nits."""
    p = np.power(np.clip(e, 0.0, 1.0), 1.0 / M2)
    return 10000.0 * np.power(np.maximum(p - C1, 0.0) / (C2 - C3 * p), 1.0 / M1)


def pq_inverse_eotf(nits: np.ndarray) -> np.ndarray:
    """Nits -> PQ signal [0, 1]."""
    y = np.power(np.clip(nits / 10000.0, 0.0, 1.0), M1)
    return np.power((C1 + C2 * y) / (1.0 + C3 * y), M2)


def hlg_inverse_oetf(e: np.ndarray) -> np.ndarray:
    """HLG signal [0, 1] -> scene light [0, 1]."""
    e = np.clip(e, 0.0, 1.0)
    return np.where(e <= 0.5, e * e / 3.0, (np.exp((e - C) / A) + B) / 12.0)


def hlg_oetf(s: np.ndarray) -> np.ndarray:
    """Scene light [0, 1] -> HLG signal [0, 1]."""
    s = np.clip(s, 0.0, 1.0)
    return np.where(s <= 1.0 / 12.0, np.sqrt(3.0 * s), A * np.log(np.maximum(12.0 * s - B, 1e-12)) + C)


def _luma(rgb: np.ndarray) -> np.ndarray:
    return np.maximum(rgb @ LUMA_2020, 0.0)[..., None]


def hlg_to_nits(e: np.ndarray) -> np.ndarray:
    """HLG signal -> display light (nits) through the BT.2100 OOTF at a 1000-nit display."""
    s = hlg_inverse_oetf(e)
    return HLG_PEAK * np.power(np.maximum(_luma(s), 1e-12), HLG_GAMMA - 1.0) * s


def nits_to_hlg(nits: np.ndarray) -> np.ndarray:
    """The inverse of :func:`hlg_to_nits`."""
    yd = _luma(nits) / HLG_PEAK
    ys = np.power(np.maximum(yd, 1e-12), 1.0 / HLG_GAMMA)
    return hlg_oetf(nits / HLG_PEAK / np.power(ys, HLG_GAMMA - 1.0))


@lru_cache(maxsize=4)
def _pq_tables() -> tuple[np.ndarray, np.ndarray]:
    """PQ's whole map per channel (the primaries stay): every 16-bit code to SDR, every SDR level back."""
    return (sdr_from_hdr(np.arange(65536, dtype=np.float64)[:, None] / 65535.0, TRC_PQ),
            hdr_from_sdr(np.arange(256, dtype=np.uint8)[:, None], TRC_PQ))


def sdr_from_hdr16(signal: np.ndarray, trc: int) -> np.ndarray:
    """:func:`sdr_from_hdr` of a 16-bit signal (``rgb48``) by tables. PQ: its whole map per channel,
    the same numbers. HLG: the inverse OETF per channel, the OOTF's gain on the luminance (float32),
    then steps 2-3 from a table over the fourth root of the nits (2^20 entries); measured against
    the formulas: 1 level off on 0.006 % of the values of a random signal, never more."""
    if trc == TRC_PQ:
        return _pq_tables()[0][signal, 0]
    t = _hlg_tables()
    scene = t.scene[signal]
    gain = np.power(np.maximum(scene @ LUMA_2020.astype(np.float32), 1e-12), np.float32(HLG_GAMMA - 1.0))
    light = np.minimum(scene * gain[..., None], 1.0)  # nits / HLG_PEAK
    return t.sdr[(np.sqrt(np.sqrt(light)) * np.float32(_FINE) + np.float32(0.5)).astype(np.int32)]


def hdr16_from_sdr(rgb: np.ndarray, trc: int) -> np.ndarray:
    """:func:`hdr_from_sdr` as a 16-bit signal. PQ through a table, the same numbers. HLG: the nits
    of each level from a table, the OOTF's inverse in float32, the OETF from a table over the square
    root of scene light; within 1 of 65535 codes of the formulas."""
    if trc == TRC_PQ:
        return np.rint(_pq_tables()[1][rgb, 0] * 65535.0).astype(np.uint16)
    t = _hlg_tables()
    nits = t.nits[rgb]
    yd = np.maximum(nits @ LUMA_2020.astype(np.float32), 1e-12) / np.float32(HLG_PEAK)
    # scene light s = nits / (peak * ys^(gamma - 1)), ys = yd^(1 / gamma)
    scale = np.power(yd, np.float32((1.0 - HLG_GAMMA) / HLG_GAMMA)) / np.float32(HLG_PEAK)
    scene = np.minimum(nits * scale[..., None], 1.0)
    return t.signal[(np.sqrt(scene) * np.float32(_COARSE) + np.float32(0.5)).astype(np.int32)]


_FINE, _COARSE = (1 << 20) - 1, (1 << 16) - 1


class _HlgTables(NamedTuple):
    scene: np.ndarray    # scene light of every 16-bit signal code (float32)
    sdr: np.ndarray      # SDR level of light (nits / peak) = (i / _FINE)^4
    nits: np.ndarray     # nits of every SDR level (float32)
    signal: np.ndarray   # 16-bit signal of scene light (i / _COARSE)^2


@lru_cache(maxsize=1)
def _hlg_tables() -> _HlgTables:
    light = (np.arange(_FINE + 1, dtype=np.float64) / _FINE) ** 4
    return _HlgTables(hlg_inverse_oetf(np.arange(65536, dtype=np.float64) / 65535.0).astype(np.float32),
                      _sdr_of_nits(light * HLG_PEAK, TRC_HLG),
                      _nits_of_level(np.arange(256) / 255.0, TRC_HLG).astype(np.float32),
                      np.rint(hlg_oetf((np.arange(_COARSE + 1) / _COARSE) ** 2) * 65535.0).astype(np.uint16))


def _nits_of_level(v: np.ndarray, trc: int) -> np.ndarray:
    """The inverse of steps 2-3: an SDR value in [0, 1] -> nits."""
    y = np.power(v, GAMMA)
    w2 = (PEAK[trc] / REF_WHITE) ** 2
    b = 1.0 - y
    return (
        2.0 * y / (b + np.sqrt(b * b + 4.0 * y / w2)) * REF_WHITE
    )  # the quadratic's root, without cancellation


def hdr_note(name: str, trc: int, output: str) -> str:
    """The one note line of an HDR input: ``output`` is "hdr", "sdr" (``--sdr``) or "image"."""
    kind = "PQ" if trc == TRC_PQ else "HLG"
    then = {"hdr": f"mapped back and written as {kind} with the input's tags",
            "sdr": "written as SDR BT.709 (--sdr)",
            "image": "written as SDR BT.709"}[output]
    return f"note: {name} is HDR ({kind}, BT.2020): stylized tone-mapped to SDR, {then}"


def bt709_from_sdr(rgb: np.ndarray) -> np.ndarray:
    """The SDR domain's uint8 pictures (BT.2020 primaries) in BT.709 primaries, same 2.4 gamma (``--sdr``);
    colours outside BT.709 clip."""
    lin = (np.arange(256, dtype=np.float32) / 255.0) ** GAMMA
    x = lin[rgb] @ BT2020_TO_709.T
    v = np.power(np.clip(x, 0.0, 1.0), 1.0 / GAMMA)
    return np.rint(v * 255.0).astype(np.uint8)


def sdr_from_hdr(signal: np.ndarray, trc: int) -> np.ndarray:
    """Non-linear BT.2020 RGB ``signal`` (floats in [0, 1]), transfer ``trc`` -> SDR uint8 (BT.2020
    primaries)."""
    signal = signal.astype(np.float64)
    nits = pq_eotf(signal) if trc == TRC_PQ else hlg_to_nits(signal)
    return _sdr_of_nits(nits, trc)


def _sdr_of_nits(nits: np.ndarray, trc: int) -> np.ndarray:
    """Steps 2-3: nits -> SDR uint8."""
    x = np.maximum(nits, 0.0) / REF_WHITE
    w2 = (PEAK[trc] / REF_WHITE) ** 2
    y = x * (1.0 + x / w2) / (1.0 + x)
    v = np.power(np.clip(y, 0.0, 1.0), 1.0 / GAMMA)
    return np.rint(v * 255.0).astype(np.uint8)


def hdr_from_sdr(rgb: np.ndarray, trc: int) -> np.ndarray:
    """The inverse of :func:`sdr_from_hdr`: SDR uint8 -> non-linear BT.2020 floats in [0, 1]."""
    nits = _nits_of_level(rgb.astype(np.float64) / 255.0, trc)
    out = pq_inverse_eotf(nits) if trc == TRC_PQ else nits_to_hlg(nits)
    return np.clip(out, 0.0, 1.0).astype(np.float32)
