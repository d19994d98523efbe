"""Moved to :mod:`rest_video.core.mask_colours` (the config checks ``masks.protect`` with it); this
name is kept for imports written before the move (engine/) and goes when they are updated."""

from rest_video.core.mask_colours import COLOURS, NAMES, colour_label, label_name

__all__ = ["COLOURS", "NAMES", "colour_label", "label_name"]
