"""Live mode: camera source, newest-frame capture, the choice of path (full network / 3D-LUT fast
path), sinks (virtual camera, memory), the preview window and the loop that joins them.

    capture thread (LatestFrame) -> StreamStylizer (full | lut) -> sinks, preview (hotkeys, overlay)

``rest-video --webcam`` (rest_video.cli.live) wires these together.
"""

from rest_video.live.autopath import choose_path
from rest_video.live.camera import Captured, FileCamera, LatestFrame, OpenCVCamera, open_source
from rest_video.live.preview import Controls, PreviewWindow, View
from rest_video.live.session import LiveSession, LiveStats
from rest_video.live.sinks import MemorySink, Sink, VirtualCamSink

__all__ = [
    "Captured",
    "Controls",
    "FileCamera",
    "LatestFrame",
    "LiveSession",
    "LiveStats",
    "MemorySink",
    "OpenCVCamera",
    "PreviewWindow",
    "Sink",
    "View",
    "VirtualCamSink",
    "choose_path",
    "open_source",
]
