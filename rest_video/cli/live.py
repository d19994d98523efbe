"""``rest-video --webcam``: stylize a camera (or a video file played as one) live.

    rest-video --webcam --style a.jpg b.jpg                      camera 0, preview window, hotkeys
    rest-video --webcam --camera clip.mp4 --no-preview --frames 300 --style a.jpg
    rest-video --webcam --style a.jpg --virtual-cam --no-preview  feed video calls

Hotkeys in the preview: 1-9 style, +/- strength, v original/stylized/side-by-side, s snapshot,
q or Esc quit. Headless runs print a summary (frames, fps, latency percentiles, path used).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rest_video.cli.common import (
    add_mask_refusal,
    add_pipeline_argument,
    add_set_argument,
    finite_float,
    load_config,
    refuse_masks,
)
from rest_video.core.config import MAX_SIDE
from rest_video.core.errors import ConfigError, DeviceError, MediaError
from rest_video.core.log import verbose_log
from rest_video.core.schema import parse_size


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.epilog = ("hotkeys: 1-9 style, +/- strength, v original/stylized/side-by-side, s snapshot, q/Esc quit\n"
                "--virtual-cam needs: pip install 'rest-video[live]' and a virtual camera "
                "(v4l2loopback on Linux, OBS Virtual Camera on Windows/macOS)")
    p.add_argument("--webcam", action="store_true", help=argparse.SUPPRESS)  # the form's name; in prog
    p.add_argument("--camera", default="0", metavar="INDEX|FILE",
                   help="camera index (default 0) or a video file played at its own frame rate")
    p.add_argument(
        "--style",
        nargs="+",
        action="extend",
        default=[],
        metavar="S",
        help="style photo(s); hotkeys 1-9 switch between them (default: the shipped photos, as in "
        "samples/styles)",
    )
    p.add_argument("--size", metavar="WxH", help="frame size (camera request / file resize)")
    p.add_argument(
        "--fps",
        type=finite_float,
        metavar="N",
        help="camera frame rate to request (default 30); for --camera FILE the playback rate (default: the "
        "file's); overrides live.fps",
    )
    p.add_argument(
        "--virtual-cam", action="store_true", help="also send frames to a virtual camera (pyvirtualcam)"
    )
    p.add_argument("--no-preview", action="store_true", help="no window: run headless and print a summary")
    p.add_argument("--frames", type=int, metavar="N", help="stop after N frames")
    p.add_argument("--mirror", action="store_true", help="flip left-right, like a mirror")
    p.add_argument("--loop", action="store_true", help="with --camera FILE: start again at the end")
    p.add_argument("--path", choices=["auto", "full", "lut"],
                   help="full network, 3D-LUT fast path, or auto (measured at start; default)")
    p.add_argument(
        "--strength",
        type=finite_float,
        metavar="A",
        help="the look's opacity over the input: 0 = the input itself, 1 = the full look (default)",
    )
    p.add_argument(
        "--smoothing",
        type=finite_float,
        metavar="F",
        help="temporal smoothing of content statistics (0 = off)",
    )
    p.add_argument("--pixel-smoothing", type=finite_float, metavar="F",
                   help="temporal smoothing of output pixels where the input stood still (0 = off)")
    p.add_argument("--checkpoint", metavar="FILE", help="weights file instead of the shipped weights")
    add_pipeline_argument(p, "; live: section")
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], help="where to run the network")
    p.add_argument(
        "--snapshot-dir", default=".", metavar="DIR", help="where s writes PNG snapshots (default .)"
    )
    p.add_argument(
        "-v", "--verbose", action="store_true", help="also the setup: the precision 'auto' chose and why"
    )
    add_set_argument(p, "live.refit_every=10")
    add_mask_refusal(p)
    p.epilog += (
        "\nmasks (--content-mask ...) are file mode's only: live mode and its LUT fast path stay global"
    )


def default_styles() -> list[Path]:
    """The style photos shipped in the package (``rest_video/resources/styles``), sorted."""
    from rest_video.io.image import IMAGE_EXTS
    from rest_video.resources import styles_dir

    return sorted(p for p in styles_dir().iterdir() if p.suffix.lower() in IMAGE_EXTS)


def run(args: argparse.Namespace) -> int:
    from rest_video.live.preview import gui_problem

    verbose_log(args.verbose)
    refuse_masks(args, "live mode (full network or LUT fast path)")

    cfg = load_config(args, {
        "model.checkpoint": args.checkpoint,
        "style.strength": args.strength,
        "temporal.smoothing": args.smoothing,
        "temporal.pixel_smoothing": args.pixel_smoothing,
        "runtime.device": args.device,
        "runtime.path": args.path,
        "live.size": None if args.size is None else list(parse_size(args.size, "--size", 16, MAX_SIDE)),
        "live.fps": args.fps,
    })
    if args.frames is not None and args.frames < 1:
        raise ConfigError("--frames must be >= 1")
    style_paths = [Path(s) for s in args.style] or default_styles()
    if not style_paths:
        raise ConfigError("give at least one style photo with --style")
    if not args.style:
        names = ", ".join(p.stem for p in style_paths)
        print(f"rest-video: styles: {names} (keys 1-{min(len(style_paths), 9)})", file=sys.stderr)
    for s in style_paths:
        if not s.is_file():
            raise MediaError(f"style image not found: {s}")
    if len(style_paths) > 9:
        print("rest-video: note: hotkeys reach the first 9 styles only", file=sys.stderr)
    if not args.no_preview:
        problem = gui_problem()
        if problem is not None:
            raise DeviceError(f"cannot open a preview window: {problem}; use --no-preview "
                              "(with --virtual-cam to send the frames elsewhere)")

    from contextlib import ExitStack

    from rest_video.engine.stylizer import Stylizer
    from rest_video.live.autopath import choose_path, set_fit_threads
    from rest_video.live.camera import LatestFrame, open_source
    from rest_video.live.preview import Controls, PreviewWindow
    from rest_video.live.session import LiveSession
    from rest_video.live.sinks import VirtualCamSink
    from rest_video.stream.processor import StreamStylizer

    live = cfg.live
    with ExitStack() as stack:
        source = open_source(args.camera, live.size, live.fps, mirror=args.mirror, loop=args.loop)
        stack.callback(source.close)
        sinks = []
        if args.virtual_cam:
            sinks.append(stack.enter_context(VirtualCamSink(*source.size, source.fps)))
        stylizer = Stylizer(cfg)
        styles = [stylizer.load_style(s) for s in style_paths]
        choice = choose_path(cfg.runtime.path, stylizer, styles[0], source.size, source.fps, live.fit_side)
        print(f"rest-video: live: {args.camera} {source.size[0]}x{source.size[1]} @ {source.fps:g} fps; "
              f"{choice.reason}", file=sys.stderr)
        if choice.path == "lut":
            set_fit_threads(cfg.runtime.threads)
        processor = StreamStylizer(stylizer, styles[0], cfg, path=choice.path)
        stack.callback(processor.close)
        preview = None
        if not args.no_preview:
            preview = PreviewWindow(f"rest-video - {Path(str(args.camera)).name}")
            stack.callback(preview.close)
        grabber = stack.enter_context(LatestFrame(source))
        session = LiveSession(
            grabber,
            processor,
            styles,
            Controls(n_styles=min(len(styles), 9), strength=processor.strength),
            sinks,
            preview,
            max_frames=args.frames,
            snapshot_dir=args.snapshot_dir,
        )
        stats = session.run()
    print(stats.summary())
    return 0
