"""rest-video: real-time photorealistic video stylization with REST.

Library entry points: :class:`Stylizer` (frames in, frames out), :func:`create_model`,
:func:`load_pipeline`, :func:`stylize_file` (whole files, the same pipeline the CLI runs).

The names are imported on first use, so ``import rest_video.cli`` (the command) does not import
torch before it has installed its signal handlers.
"""

from __future__ import annotations

import importlib

__all__ = ["FileOptions", "PipelineConfig", "RestVideoError", "Stylizer", "create_model", "load_pipeline",
           "stylize_file"]
__version__ = "0.1.0"

_HOMES = {
    "FileOptions": "rest_video.pipeline.file",
    "PipelineConfig": "rest_video.core.config",
    "load_pipeline": "rest_video.core.config",
    "Stylizer": "rest_video.engine.stylizer",
    "RestVideoError": "rest_video.core.errors",
    "create_model": "rest_video.models",
}


def __getattr__(name: str):
    if name in _HOMES:
        value = getattr(importlib.import_module(_HOMES[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'rest_video' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


def stylize_file(*args, **kwargs):
    """Stylize a video or image file; see :func:`rest_video.pipeline.file.stylize_file`."""
    from rest_video.pipeline.file import stylize_file as _run

    return _run(*args, **kwargs)
