"""Inference: :class:`Stylizer` (frames in, frames out) and the frame runners (CPU, CUDA)."""

from rest_video.engine.stylizer import Stylizer

__all__ = ["Stylizer"]
