"""rest-video: real-time photorealistic video stylization with REST.

Library entry points: :class:`Stylizer` (frames in, frames out), :func:`create_model`,
:func:`load_pipeline`, :func:`stylize_file` (whole files, the same pipeline the CLI runs).
"""

from rest_video.core.config import PipelineConfig, load_pipeline
from rest_video.engine.stylizer import Stylizer
from rest_video.core.errors import RestVideoError
from rest_video.models import create_model

__all__ = ["PipelineConfig", "RestVideoError", "Stylizer", "create_model", "load_pipeline", "stylize_file"]
__version__ = "0.1.0"


def stylize_file(*args, **kwargs):
    """Stylize a video or image file; see :func:`rest_video.pipeline.file.stylize_file`."""
    from rest_video.pipeline.file import stylize_file as _run

    return _run(*args, **kwargs)
