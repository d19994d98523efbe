"""The label colours of mask images, as in Luan et al.'s deep photo style transfer dataset.

A mask is an image painted in flat colours, one per region; the colour is the region's label. This
module is the one table of them (pure Python, so the config can check ``masks.protect`` without
importing numpy). Label numbers are indices into :data:`COLOURS`.
"""

from __future__ import annotations

COLOURS: tuple[tuple[str, tuple[int, int, int]], ...] = (
    ("black", (0, 0, 0)),
    ("white", (255, 255, 255)),
    ("red", (255, 0, 0)),
    ("green", (0, 255, 0)),
    ("blue", (0, 0, 255)),
    ("yellow", (255, 255, 0)),
    ("grey", (128, 128, 128)),
    ("light-blue", (0, 255, 255)),
    ("purple", (255, 0, 255)),
)
"""``(name, (r, g, b))`` per label, label = index. Pixels of any other colour (anti-aliased borders,
JPEG or video noise) snap to the nearest of these (:func:`rest_video.io.masks.snap_labels`)."""

NAMES = tuple(name for name, _ in COLOURS)
_ALIASES = {"gray": "grey", "lightblue": "light-blue", "light_blue": "light-blue", "cyan": "light-blue",
            "magenta": "purple"}


def colour_label(text: str) -> int:
    """The label of a colour given by name (``red``, ``light-blue``) or as ``#rrggbb`` (snapped to
    the nearest table colour); ``ValueError`` naming the choices otherwise."""
    t = str(text).strip().lower()
    t = _ALIASES.get(t, t)
    if t in NAMES:
        return NAMES.index(t)
    h = t[1:] if t.startswith("#") else t
    if len(h) == 6 and all(c in "0123456789abcdef" for c in h):
        rgb = tuple(int(h[i:i + 2], 16) for i in (0, 2, 4))
        return min(
            range(len(COLOURS)),
            key=lambda i: sum((a - b) ** 2 for a, b in zip(COLOURS[i][1], rgb, strict=False)),
        )
    raise ValueError(f"unknown mask colour {text!r} (one of {', '.join(NAMES)}, or #rrggbb)")


def label_name(label: int) -> str:
    return NAMES[label] if 0 <= label < len(NAMES) else f"label {label}"
