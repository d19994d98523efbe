"""Streams of frames: temporal filters (statistics smoothing, pixel stabilizer), the LUT path, and
:class:`StreamStylizer`, which composes them once for file mode, live mode and the flicker tool."""

from rest_video.stream.lut import LutStylizer
from rest_video.stream.processor import StreamStylizer
from rest_video.stream.smoothing import SceneCutDetector, StatsSmoother
from rest_video.stream.stabilizer import PixelStabilizer, make_stabilizer

__all__ = [
    "LutStylizer",
    "PixelStabilizer",
    "SceneCutDetector",
    "StatsSmoother",
    "StreamStylizer",
    "make_stabilizer",
]
