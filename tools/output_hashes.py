"""SHA-256 of what rest-video outputs on the sample clip, for bit-identity checks across a refactor.

    python tools/output_hashes.py --checkpoint /tmp/pinned.safetensors --out before.json
    ... change the code ...
    python tools/output_hashes.py --checkpoint /tmp/pinned.safetensors --compare before.json

Hashed: the decoded RGB frames (and the file bytes) of file mode on samples/street.mp4, an image-mode
run on a still (the first frame of the clip unless --image), a video -> first-frame image run, and the
stream processor's full and LUT paths (live mode's, refits in the loop) on 20 frames at 384 px;
masks (a content and a style mask, file mode on an image and a video, protect, an image's counted
pixels), tiling (a memory budget that forces bands, plain and masked), the ``.cube`` export, the
unfolded model, WCT, and each precision (fp32, bf16, int8) this CPU runs: the others are recorded
as "not checkable here", and compare as equal only to the same.
Pin the weights (--checkpoint): the shipped ones change with training. Torch runs on one thread
(--threads): the convs' thread count is otherwise timed per frame size, and oneDNN's results may
differ in the last bit between counts, so a loaded machine would change the hashes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

from rest_video import RestVideoError, Stylizer, load_pipeline, stylize_file
from rest_video.cli.main import main as cli_main
from rest_video.io.clips import read_clip
from rest_video.io.image import read_image, write_image
from rest_video.stream import StreamStylizer

ROOT = Path(__file__).resolve().parent.parent
UNCHECKABLE = "not checkable here"


def digest(arrays) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def hashes(checkpoint: str, image: str | None) -> dict[str, str]:
    clip, styles = ROOT / "samples" / "street.mp4", ROOT / "samples" / "styles"
    cfg = load_pipeline(None, {"model.checkpoint": checkpoint, "style.cache": False,
                               "runtime.threads": torch.get_num_threads()})
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
    out.update(mask_hashes(cfg, clip, styles, frames))
    out.update(tiling_hashes(cfg, styles, frames))
    out.update(form_hashes(cfg, styles, frames[:4]))
    out["cube_bytes"] = cube_hash(checkpoint, clip, styles)
    return out


def split_mask(h: int, w: int, colour=(255, 0, 0)) -> np.ndarray:
    """An RGB mask: black left half, ``colour`` right half."""
    m = np.zeros((h, w, 3), np.uint8)
    m[:, w // 2:] = colour
    return m


def mask_hashes(cfg, clip: Path, styles: Path, frames: list[np.ndarray]) -> dict[str, str]:
    """Masked stylization: file mode (image and video) with a content and a style mask, protect,
    the Stylizer on stream frames, and an image's counted pixels (stats_mask)."""
    out: dict[str, str] = {}
    style = styles / "forest-path.jpg"
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        still = d / "still.png"
        write_image(still, read_clip(clip, 1)[0])
        h, w = read_image(still).shape[:2]
        write_image(d / "cmask.png", split_mask(h // 2, w // 2))
        sh, sw = read_image(style).shape[:2]
        write_image(d / "smask.png", split_mask(sh, sw))
        stylize_file(still, style, d / "m.png", cfg, progress=False, content_mask=d / "cmask.png",
                     style_mask=d / "smask.png")
        out["mask_image_pixels"] = digest([read_image(d / "m.png")])
        stylize_file(clip, style, d / "m.mp4", cfg, progress=False, max_frames=6,
                     content_mask=d / "cmask.png",
                     style_mask=d / "smask.png", strength=0.8)
        out["mask_video_frames"] = digest(read_clip(d / "m.mp4"))
        st = Stylizer(cfg)
        rstyle = st.load_style(style, mask=d / "smask.png")
        fh, fw = frames[0].shape[:2]
        cmask = split_mask(fh, fw)
        out["mask_stylizer"] = digest([st.stylize(f, rstyle, 0.9, content_mask=cmask) for f in frames[:4]])
        out["mask_protect"] = digest([st.stylize(f, rstyle, content_mask=cmask, protect="red")
                                      for f in frames[:2]])
        counted = np.ones((fh, fw), bool)
        counted[: fh // 3] = False
        plain = st.load_style(style)
        out["mask_counted_plain"] = digest([st.stylize(frames[0], plain, stats_mask=counted)])
        out["mask_counted_regions"] = digest([st.stylize(frames[0], rstyle, content_mask=cmask,
                                                         stats_mask=counted)])
    return out


def tiling_hashes(cfg, styles: Path, frames: list[np.ndarray]) -> dict[str, str]:
    """Frames over a small memory budget, stylized in bands (plain, a batch, and masked)."""
    st = Stylizer(cfg)
    st.limit_memory(6 << 20)  # 12 bands of a 384 x 288 frame
    h, w = frames[0].shape[:2]
    if st.fits(1, h, w):
        raise RestVideoError("tiling: a 6 MB budget did not force bands")
    style = st.load_style(styles / "evening-glow.jpg")
    out = {"tiled_plain": digest([st.stylize(f, style, 0.85) for f in frames[:3]]),
           "tiled_batch": digest([st.stylize(np.stack(frames[3:5]), style)])}
    sh, sw = read_image(styles / "forest-path.jpg").shape[:2]
    rstyle = st.load_style(styles / "forest-path.jpg", mask=split_mask(sh, sw))
    st.limit_memory(16 << 20)  # 12 bands of a masked frame of two regions
    out["tiled_masked"] = digest([st.stylize(f, rstyle, content_mask=split_mask(h, w)) for f in frames[:2]])
    return out


def form_hashes(cfg, styles: Path, frames: list[np.ndarray]) -> dict[str, str]:
    """Each precision this CPU runs, the unfolded model, and WCT."""
    from rest_video.models.backends import mkldnn_bf16_available
    from rest_video.models.int8 import int8_available

    batch = np.stack(frames)
    out: dict[str, str] = {}
    runs = {"fp32": True, "bf16": mkldnn_bf16_available(), "int8": int8_available()}
    for precision, runs_here in runs.items():
        if not runs_here:
            out[f"precision_{precision}"] = UNCHECKABLE
            continue
        st = Stylizer(cfg.with_precision(precision))
        style = st.load_style(styles / "dune.jpg")
        out[f"precision_{precision}"] = digest([st.stylize(batch, style), st.stylize(frames[0], style, 0.6)])
    plain = load_pipeline(None, {"model.checkpoint": cfg.model.checkpoint, "style.cache": False,
                                 "runtime.optimized": False, "runtime.precision": "fp32"})
    st = Stylizer(plain)
    out["unfolded_fp32"] = digest([st.stylize(batch, st.load_style(styles / "dune.jpg"))])
    wct = load_pipeline(None, {"model.checkpoint": cfg.model.checkpoint, "style.cache": False,
                               "model.method": "wct"})
    st = Stylizer(wct)
    out["wct"] = digest([st.stylize(batch, st.load_style(styles / "dune.jpg"))])
    return out


def cube_hash(checkpoint: str, clip: Path, styles: Path) -> str:
    """The bytes of ``rest-video lut`` (a .cube fitted on 3 frames of the clip)."""
    with tempfile.TemporaryDirectory() as d:
        cube = Path(d) / "look.cube"
        rc = cli_main(["lut", str(styles / "darkest-hour.jpg"), "--content", str(clip), "-o", str(cube),
                       "--frames", "3", "--size", "17", "--checkpoint", checkpoint, "--strength", "0.9", "-q",
                       "--set", "style.cache=false"])
        if rc != 0:
            raise RestVideoError(f"rest-video lut exited {rc}")
        return hashlib.sha256(cube.read_bytes()).hexdigest()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python tools/output_hashes.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--checkpoint", required=True, help="pinned weights (.safetensors)")
    p.add_argument("--image", help="a still for image mode (default: the clip's first frame)")
    p.add_argument("--out", help="write the hashes as JSON")
    p.add_argument("--compare", help="a JSON of earlier hashes: exit 1 unless every one is equal")
    p.add_argument("--threads", type=int, default=1, help="torch's thread count (default 1: see above)")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    try:
        got = hashes(args.checkpoint, args.image)
    except RestVideoError as e:
        print(f"tools/output_hashes.py: {e}", file=sys.stderr)
        return 2
    return report(got, args.out, args.compare)


def report(got: dict[str, str], out: str | None, compare: str | None) -> int:
    """Print the hashes, write them to ``out``, and against ``compare`` say whether every key there
    is the same (exit status 1 when not)."""
    print(json.dumps(got, indent=1))
    if out:
        Path(out).write_text(json.dumps(got, indent=1) + "\n")
    if compare:
        ref = json.loads(Path(compare).read_text())
        diff = [k for k in ref if ref[k] != got.get(k)]
        print("bit-identical" if not diff else f"DIFFERENT: {', '.join(diff)}", file=sys.stderr)
        return 1 if diff else 0
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
