"""File mode: decode -> stylize -> encode as three overlapping stages (:func:`stylize_file`)."""

from rest_video.pipeline.file import FileOptions, PipelineResult, check_paths, stylize_file

__all__ = ["FileOptions", "PipelineResult", "check_paths", "stylize_file"]
