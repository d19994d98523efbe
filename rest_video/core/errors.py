"""One error root for rest-video.

Every error a user can cause (bad file, bad option, bad config) derives from
:class:`RestVideoError`; the CLI turns it into one line on stderr and a non-zero
exit. Subclasses also derive from the fitting builtin so callers of the library
can catch ``ValueError`` / ``OSError`` as usual.
"""

from __future__ import annotations


class RestVideoError(Exception):
    """Root of all errors rest-video raises on purpose."""


class ConfigError(RestVideoError, ValueError):
    """A pipeline / training YAML key or value, or a command-line option, is wrong."""


class ShapeError(RestVideoError, ValueError):
    """A tensor does not have the shape an op needs."""


class MediaError(RestVideoError, OSError):
    """An input cannot be read or an output cannot be written."""


class WeightsError(RestVideoError, OSError):
    """Model or teacher weights are missing or do not fit."""


class StyleError(RestVideoError, ValueError):
    """A style image has no look to transfer (a single colour)."""


class DeviceError(RestVideoError, RuntimeError):
    """A requested device (CUDA, a camera, a virtual camera) is not available."""


def first_line(e: BaseException, limit: int | None = 200) -> str:
    """The first line of ``e``'s message, at most ``limit`` characters (the error's type name when
    it has no message): what a one-line error or note quotes of a library's exception."""
    text = str(e).strip()
    line = text.splitlines()[0] if text else type(e).__name__
    return line[:limit] if limit else line
