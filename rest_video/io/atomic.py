"""Moved to :mod:`rest_video.core.atomic` (ops/ writes files atomically too); this name is kept for
imports written before the move (engine/) and goes when they are updated."""

from rest_video.core.atomic import atomic_output, check_writable, output_mode

__all__ = ["atomic_output", "check_writable", "output_mode"]
