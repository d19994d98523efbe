"""The ``rest-video`` command (:func:`main`) and one module per form, each with
``add_arguments(parser)`` and ``run(args) -> int``: thin, the work is in the library."""

from rest_video.cli.main import main

__all__ = ["main"]
