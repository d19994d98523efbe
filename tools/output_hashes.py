"""SHA-256 of what rest-video outputs on the sample clip, for bit-identity checks across a refactor.

    python tools/output_hashes.py --checkpoint /tmp/pinned.safetensors --out before.json
    ... change the code ...
    python tools/output_hashes.py --checkpoint /tmp/pinned.safetensors --compare before.json

Hashed: the decoded RGB frames (and the file bytes) of file mode on samples/street.mp4, an image-mode
run on a still (the first frame of the clip unless --image), a video -> first-frame image run, and the
stream processor's full and LUT paths (live mode's, refits in the loop) on 20 frames at 384 px.
Pin the weights (--checkpoint): the shipped ones change with training.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

from rest_video import RestVideoError, Stylizer, load_pipeline, stylize_file
from rest_video.io.clips import read_clip
from rest_video.io.image import read_image, write_image
from rest_video.stream import StreamStylizer

ROOT = Path(__file__).resolve().parent.parent


def digest(arrays) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def hashes(checkpoint: str, image: str | None) -> dict[str, str]:
    clip, styles = ROOT / "samples" / "street.mp4", ROOT / "samples" / "styles"
    cfg = load_pipeline(None, {"model.checkpoint": checkpoint, "style.cache": False})
    out: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        stylize_file(clip, styles / "evening-glow.jpg", d / "out.mp4", cfg, progress=False)
        out["video_frames"] = digest(read_clip(d / "out.mp4"))
        out["video_bytes"] = hashlib.sha256((d / "out.mp4").read_bytes()).hexdigest()
        still = Path(image) if image else d / "still.png"
        if not image:
            write_image(still, read_clip(clip, 1)[0])
        stylize_file(still, styles / "dune.jpg", d / "out.png", cfg, progress=False)
        out["image_pixels"] = digest([read_image(d / "out.png")])
        stylize_file(clip, styles / "summer-1am.jpg", d / "first.png", cfg, progress=False, strength=0.7)
        out["first_frame_pixels"] = digest([read_image(d / "first.png")])
    st = Stylizer(cfg)
    style = st.load_style(styles / "evening-glow.jpg")
    frames = read_clip(clip, 20, side=384)
    full = StreamStylizer(st, style, strength=0.8)
    out["stream_full"] = digest([full(f) for f in frames])
    lut = StreamStylizer(st, style, strength=0.8, path="lut", background=False)
    outs = []
    for i, f in enumerate(frames):
        if i == 10:
            lut.set_strength(0.5)
        outs.append(lut(f))
    out["stream_lut"] = digest(outs)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python tools/output_hashes.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--checkpoint", required=True, help="pinned weights (.safetensors)")
    p.add_argument("--image", help="a still for image mode (default: the clip's first frame)")
    p.add_argument("--out", help="write the hashes as JSON")
    p.add_argument("--compare", help="a JSON of earlier hashes: exit 1 unless every one is equal")
    args = p.parse_args(argv)
    try:
        got = hashes(args.checkpoint, args.image)
    except RestVideoError as e:
        print(f"tools/output_hashes.py: {e}", file=sys.stderr)
        return 2
    print(json.dumps(got, indent=1))
    if args.out:
        Path(args.out).write_text(json.dumps(got, indent=1) + "\n")
    if args.compare:
        ref = json.loads(Path(args.compare).read_text())
        diff = [k for k in ref if ref[k] != got.get(k)]
        print("bit-identical" if not diff else f"DIFFERENT: {', '.join(diff)}", file=sys.stderr)
        return 1 if diff else 0
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
