"""The library's log records as ``rest-video: ...`` lines on stderr (the command and its batch
workers show them the same way)."""

from __future__ import annotations

import logging
import sys


class StderrHandler(logging.Handler):
    """Library log records as CLI lines on the current ``sys.stderr``: ``rest-video: MESSAGE``
    (``rest-video: warning: MESSAGE`` for warnings)."""

    def emit(self, record: logging.LogRecord) -> None:
        prefix = "warning: " if record.levelno >= logging.WARNING else ""
        print(f"rest-video: {prefix}{record.getMessage()}", file=sys.stderr, flush=True)


def show_library_log() -> None:
    """Route the ``rest_video`` loggers (notes, warnings, training progress) to stderr, once."""
    root = logging.getLogger("rest_video")
    if not any(isinstance(h, StderrHandler) for h in root.handlers):
        root.addHandler(StderrHandler())
        root.setLevel(logging.INFO)
        root.propagate = False


def verbose_log(on: bool) -> None:
    """``-v``: the library's debug lines too (precision auto's choice, tiling plans)."""
    logging.getLogger("rest_video").setLevel(logging.DEBUG if on else logging.INFO)
