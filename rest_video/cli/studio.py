"""``rest-video studio``: start the local web studio (needs the ``[studio]`` extra).

    rest-video studio [--port 8765] [--host 127.0.0.1] [--open] [--token T] [--camera 0|FILE]

On a loopback address no token is needed. On any other address a token is required: ``--token``,
or one the command makes and prints with the address to open.
"""

from __future__ import annotations

import argparse
import sys

from rest_video.cli.common import finite_float
from rest_video.core.errors import ConfigError


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--port", type=int, default=8765, help="TCP port (default 8765)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1: this machine only; any other needs "
                        "a token)")
    p.add_argument("--token", help="access token every request must carry (made and printed when --host is "
                                   "not a loopback address and none is given)")
    p.add_argument("--open", action="store_true", help="open the page in the default browser")
    p.add_argument("--camera", default="0", metavar="INDEX_OR_FILE",
                   help="the live feed's source: a camera index (default 0) or a video file (looped)")
    p.add_argument("--max-upload-mb", type=int, default=512, metavar="MB",
                   help="largest upload (default 512)")
    p.add_argument("--max-age", type=finite_float, default=24.0, metavar="HOURS",
                   help="an idle session's files are removed after this many hours (default 24)")
    p.add_argument("--workdir", metavar="DIR",
                   help="where the run's folder is made (default: the temp folder)")


def run(args: argparse.Namespace) -> int:
    try:
        import starlette  # noqa: F401
        import uvicorn
    except ImportError:
        print("rest-video: error: the studio needs the [studio] extra: pip install 'rest-video[studio]'",
              file=sys.stderr)
        return 2
    from rest_video.studio.app import StudioSettings, create_app
    from rest_video.studio.security import is_loopback, new_token

    if not 0 < args.port < 65536:
        raise ConfigError(f"--port must be in 1..65535, got {args.port}")
    if args.max_upload_mb < 1 or args.max_age <= 0:
        raise ConfigError("--max-upload-mb and --max-age must be > 0")
    apply_studio_runtime()
    loopback = is_loopback(args.host)
    token = args.token
    if not loopback and not token:
        token = new_token()
    app = create_app(StudioSettings(token=token, loopback=loopback, camera=args.camera, root=args.workdir,
                                    max_age=args.max_age * 3600, max_upload_mb=args.max_upload_mb))
    shown = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host
    url = f"http://{shown}:{args.port}/" + (f"?token={token}" if token else "")
    print(f"rest-video studio: open {url}  (Ctrl-C stops it and removes its files)", file=sys.stderr)
    if not loopback:
        print(f"rest-video studio: listening on {args.host}: every request needs the token {token}",
              file=sys.stderr)
    if args.open:
        import threading
        import webbrowser

        threading.Timer(1.0, webbrowser.open, (url,)).start()
    try:
        uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    finally:
        app.state.studio.close()  # also on an interrupt that skipped the lifespan's end
    return 0


def apply_studio_runtime() -> None:
    """The process-wide runtime settings of the default pipeline (torch threads, malloc's keeping of
    freed memory), applied once as every command does where it starts: renders in the studio then
    run as ``rest-video IN STYLE OUT`` does."""
    from rest_video import load_pipeline
    from rest_video.core.devices import apply_runtime

    apply_runtime(load_pipeline("default").runtime)
