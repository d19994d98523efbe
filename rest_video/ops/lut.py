"""3D colour lookup tables: trilinear apply, ``.cube`` files (fitting: :mod:`rest_video.ops.lut_fit`).

A LUT here is a float32 array ``(N, N, N, 3)`` indexed ``[b, g, r]`` with RGB values in ``[0, 1]``:
lattice point ``(i, j, k)`` maps the input colour ``(k, j, i) / (N - 1)``. That is the order of a
``.cube`` file (red changes fastest), so ``table.reshape(-1, 3)`` is the file's data lines.

- :func:`identity_lut`, :func:`apply_lut` (reference trilinear interpolation, any float input),
  :class:`LutApplier` (fast trilinear apply for uint8 frames, one ``cv2.remap`` per frame).
- fitting a table to pixel pairs: :mod:`rest_video.ops.lut_fit`.
- :func:`write_cube`, :func:`read_cube`: the Adobe / Resolve ``.cube`` text format.
"""

from __future__ import annotations

import re
from pathlib import Path

import cv2
import numpy as np

from rest_video.core.errors import MediaError, ShapeError

__all__ = [
    "LutApplier",
    "apply_cube_ffmpeg",
    "apply_lut",
    "as_unit_rgb",
    "identity_lut",
    "lattice_weights",
    "read_cube",
    "write_cube",
]

_CORNERS = np.array([(db, dg, dr) for db in (0, 1) for dg in (0, 1) for dr in (0, 1)], dtype=np.int64)

def _check_table(table: np.ndarray) -> int:
    if table.ndim != 4 or table.shape[-1] != 3 or not (table.shape[0] == table.shape[1] == table.shape[2]):
        raise ShapeError(f"a 3D LUT must be (N, N, N, 3), got {tuple(table.shape)}")
    if table.shape[0] < 2:
        raise ShapeError(f"a 3D LUT needs N >= 2, got {table.shape[0]}")
    return int(table.shape[0])


def as_unit_rgb(x: np.ndarray) -> np.ndarray:
    """uint8 ``(..., 3)`` -> float32 in [0, 1]; float input is taken as already in [0, 1]."""
    if x.shape[-1] != 3:
        raise ShapeError(f"expected RGB values (..., 3), got {tuple(x.shape)}")
    if x.dtype == np.uint8:
        return x.astype(np.float32) * np.float32(1.0 / 255.0)
    return np.clip(x.astype(np.float32), 0.0, 1.0)


def identity_lut(size: int = 33) -> np.ndarray:
    """The LUT that maps every colour to itself, ``(size, size, size, 3)`` float32.

    >>> identity_lut(2)[1, 0, 1].tolist()   # [b, g, r] = [1, 0, 1] -> RGB (1, 0, 1)
    [1.0, 0.0, 1.0]
    """
    v = np.linspace(0.0, 1.0, size, dtype=np.float32)
    b, g, r = np.meshgrid(v, v, v, indexing="ij")
    return np.stack([r, g, b], axis=-1)


def lattice_weights(x: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Flat lattice indices ``(P, 8)`` and trilinear weights ``(P, 8)`` of RGB points ``(P, 3)`` in [0, 1]."""
    c = x * np.float32(n - 1)
    i0 = np.clip(np.floor(c), 0, n - 2).astype(np.int64)
    f = c - i0
    r0, g0, b0 = i0[:, 0], i0[:, 1], i0[:, 2]
    fr, fg, fb = f[:, 0], f[:, 1], f[:, 2]
    base = (b0 * n + g0) * n + r0
    offs = (_CORNERS[:, 0] * n + _CORNERS[:, 1]) * n + _CORNERS[:, 2]
    idx = base[:, None] + offs[None, :]
    wb = np.stack([1 - fb, fb], 1)[:, _CORNERS[:, 0]]
    wg = np.stack([1 - fg, fg], 1)[:, _CORNERS[:, 1]]
    wr = np.stack([1 - fr, fr], 1)[:, _CORNERS[:, 2]]
    return idx, (wb * wg * wr).astype(np.float32)


def apply_lut(rgb: np.ndarray, table: np.ndarray) -> np.ndarray:
    """Trilinear interpolation of ``table`` at ``rgb`` (reference implementation, any shape ``(..., 3)``).

    Args:
        rgb: uint8 (0..255) or float (0..1) colours ``(..., 3)``.
        table: ``(N, N, N, 3)`` LUT indexed ``[b, g, r]``.

    Returns:
        the mapped colours, same shape; uint8 (rounded) for uint8 input, else float32.
    """
    n = _check_table(table)
    x = as_unit_rgb(rgb)
    idx, w = lattice_weights(x.reshape(-1, 3), n)
    flat = table.reshape(-1, 3).astype(np.float32)
    out = np.einsum("pk,pkc->pc", w, flat[idx]).reshape(x.shape)
    if rgb.dtype == np.uint8:
        return np.clip(np.rint(out * 255.0), 0, 255).astype(np.uint8)
    return out


class LutApplier:
    """Fast trilinear apply of one LUT to uint8 RGB frames ``(H, W, 3)``.

    The table is first interpolated along blue to all 256 input levels and laid out as one image
    ``(N, 256 * N, 3)``: row = green lattice coordinate, column = blue level * N + red lattice
    coordinate. A frame then needs one bilinear ``cv2.remap`` (red, green) at an exact blue column
    block: the same result as trilinear interpolation (OpenCV quantises the red / green fractions
    to 1/32 of a lattice cell), about 5-8 ms for 768x576 on one CPU core.
    """

    def __init__(self, table: np.ndarray) -> None:
        n = _check_table(table)
        self.size = n
        self.table = np.ascontiguousarray(table, dtype=np.float32)
        levels = np.arange(256, dtype=np.float64) * (n - 1) / 255.0
        b0 = np.clip(np.floor(levels), 0, n - 2).astype(np.int64)
        fb = (levels - b0).astype(np.float32)[:, None, None, None]
        t = self.table
        along_b = t[b0] * (1 - fb) + t[b0 + 1] * fb            # (256, N_g, N_r, 3)
        image = along_b.transpose(1, 0, 2, 3).reshape(n, 256 * n, 3)
        # float32 (not uint8) lattice: no rounding before interpolation, so identity stays exact
        self._image = np.ascontiguousarray(np.clip(image * 255.0, 0, 255), dtype=np.float32)
        self._x_r = levels.astype(np.float32)                    # red level -> lattice column
        self._x_b = (np.arange(256) * n).astype(np.float32)      # blue level -> column block
        self._y_g = levels.astype(np.float32)                    # green level -> lattice row

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        if rgb.ndim != 3 or rgb.shape[-1] != 3 or rgb.dtype != np.uint8:
            raise ShapeError(
                f"LutApplier needs an RGB uint8 frame (H, W, 3), got {rgb.dtype} {tuple(rgb.shape)}"
            )
        r, g, b = cv2.split(rgb)
        map_x = cv2.add(cv2.LUT(r, self._x_r), cv2.LUT(b, self._x_b))
        map_y = cv2.LUT(g, self._y_g)
        out = cv2.remap(self._image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        return cv2.convertScaleAbs(out)                          # round to nearest, saturate to uint8


# --------------------------------------------------------------------------- fitting
# --------------------------------------------------------------------------- .cube files
def write_cube(path: str | Path, table: np.ndarray, title: str = "rest-video") -> None:
    """Write ``table`` as an Adobe / Resolve ``.cube`` file (LUT_3D_SIZE, DOMAIN 0..1, red fastest).

    Written atomically (temporary file next to ``path``, then renamed).
    """
    n = _check_table(table)
    from rest_video.core.atomic import atomic_output

    title = title.replace('"', "'").replace("\n", " ")
    lines = [f'TITLE "{title}"', f"LUT_3D_SIZE {n}", "DOMAIN_MIN 0.0 0.0 0.0", "DOMAIN_MAX 1.0 1.0 1.0"]
    data = np.clip(table.reshape(-1, 3).astype(np.float64), 0.0, 1.0)
    lines += [f"{r:.6f} {g:.6f} {b:.6f}" for r, g, b in data]
    with atomic_output(path) as tmp:
        tmp.write_text("\n".join(lines) + "\n", encoding="ascii")


def read_cube(path: str | Path) -> tuple[np.ndarray, str]:
    """Read a ``.cube`` 3D LUT; returns ``(table (N, N, N, 3) float32 indexed [b, g, r], title)``.

    Only the unit domain (``DOMAIN_MIN 0 0 0`` / ``DOMAIN_MAX 1 1 1``, the default) is supported;
    other domains, 1D LUTs and malformed files raise :class:`MediaError`.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8", errors="replace")
    except OSError as e:
        raise MediaError(f"cannot read {p}: {e.strerror}") from None
    size = None
    title = ""
    dmin, dmax = [0.0] * 3, [1.0] * 3
    values: list[list[float]] = []
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        key = line.split(None, 1)[0].upper()
        try:
            if key == "TITLE":
                m = re.match(r'TITLE\s+"?(.*?)"?\s*$', line, re.IGNORECASE)
                title = m.group(1) if m else ""
            elif key == "LUT_3D_SIZE":
                size = int(line.split()[1])
            elif key == "LUT_1D_SIZE":
                raise MediaError(f"{p}: a 1D LUT, not a 3D LUT")
            elif key == "DOMAIN_MIN":
                dmin = [float(v) for v in line.split()[1:4]]
            elif key == "DOMAIN_MAX":
                dmax = [float(v) for v in line.split()[1:4]]
            elif key[0].isdigit() or key[0] in "+-.":
                values.append([float(v) for v in line.split()[:3]])
            # other keywords (LUT_3D_INPUT_RANGE, comments by other tools) are ignored
        except (IndexError, ValueError):
            raise MediaError(f"{p}:{lineno}: not a valid .cube line: {raw.strip()!r}") from None
    if size is None:
        raise MediaError(f"{p}: no LUT_3D_SIZE line (not a 3D .cube LUT)")
    if len(values) != size ** 3 or any(len(v) != 3 for v in values):
        raise MediaError(f"{p}: expected {size ** 3} RGB lines for LUT_3D_SIZE {size}, got {len(values)}")
    if dmin != [0.0] * 3 or dmax != [1.0] * 3:
        raise MediaError(f"{p}: only DOMAIN_MIN 0 0 0 / DOMAIN_MAX 1 1 1 is supported")
    table = np.asarray(values, dtype=np.float32).reshape(size, size, size, 3)
    return table, title


def apply_cube_ffmpeg(rgb: np.ndarray, path: str | Path, interp: str = "trilinear") -> np.ndarray:
    """Apply a ``.cube`` file with FFmpeg's ``lut3d`` filter (through PyAV's filter graph).

    What other tools (ffmpeg, players, editors) will show for the file; used to check exports.

    Args:
        rgb: ``(H, W, 3)`` or ``(N, H, W, 3)`` uint8 frames.
        path: the ``.cube`` file.
        interp: ``lut3d`` interpolation: ``nearest``, ``trilinear``, ``tetrahedral`` (FFmpeg's
            default), ``pyramid`` or ``prism``.
    """
    import av

    frames = rgb[None] if rgb.ndim == 3 else rgb
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise ShapeError(f"expected uint8 RGB frames, got {frames.dtype} {tuple(rgb.shape)}")
    from fractions import Fraction

    escaped = str(path).replace("\\", "\\\\").replace(":", "\\:").replace("'", "\\'")
    graph = av.filter.Graph()
    src = graph.add_buffer(
        width=frames.shape[2], height=frames.shape[1], format="rgb24", time_base=Fraction(1, 25)
    )
    lut = graph.add("lut3d", f"file={escaped}:interp={interp}")
    sink = graph.add("buffersink")
    src.link_to(lut)
    lut.link_to(sink)
    graph.configure()
    out = []
    for i, f in enumerate(frames):
        vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(f), format="rgb24")
        vf.pts = i
        graph.push(vf)
        out.append(graph.pull().to_ndarray(format="rgb24"))
    result = np.stack(out)
    return result[0] if rgb.ndim == 3 else result
