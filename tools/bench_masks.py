"""Speed of mask-guided against global stylization of one frame (BENCHMARKS.md, "Masks").

    python tools/bench_masks.py --size 1280x720 --threads 2 --runs 15

The frame is the first of samples/street.mp4 resized to the size; the content mask labels the top
40 % light-blue and the rest black (two regions), the style mask (samples/styles/evening-glow.jpg)
the top half light-blue. Global and masked calls alternate, after two untimed calls each, so both
see the same machine load; printed: the median ms per frame of each and their ratio. ``--feather``
sets masks.feather (default 8); ``--regions 3`` adds a third label (a red box) to both masks.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python tools/bench_masks.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--size", default="1280x720")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--runs", type=int, default=15)
    p.add_argument("--feather", type=float, default=8.0)
    p.add_argument("--regions", type=int, choices=[2, 3], default=2)
    p.add_argument("--checkpoint", help="weights (default: shipped)")
    args = p.parse_args(argv)

    import torch

    from rest_video import Stylizer, load_pipeline
    from rest_video.core.mask_colours import colour_label
    from rest_video.core.schema import parse_size
    from rest_video.io.clips import read_clip
    from rest_video.io.image import read_image

    torch.set_num_threads(args.threads)
    w, h = parse_size(args.size)
    sets = {"style.cache": False, "runtime.device": "cpu", "masks.feather": args.feather}
    if args.checkpoint:
        sets["model.checkpoint"] = args.checkpoint
    st = Stylizer(load_pipeline(None, sets))
    frame = read_clip(ROOT / "samples" / "street.mp4", 1, size=(w, h))[0]
    style = read_image(ROOT / "samples" / "styles" / "evening-glow.jpg", 1024)
    sky = colour_label("light-blue")
    cmask = np.zeros((h, w), np.uint8)
    cmask[: int(0.4 * h)] = sky
    smask = np.zeros(style.shape[:2], np.uint8)
    smask[: style.shape[0] // 2] = sky
    if args.regions == 3:
        cmask[h // 2: h // 2 + h // 4, w // 4: w // 2] = colour_label("red")
        smask[-style.shape[0] // 4:, : style.shape[1] // 3] = colour_label("red")
    regions = st.load_style(style, mask=smask)
    calls = {"global": lambda: st.stylize(frame, regions.whole),
             "masked": lambda: st.stylize(frame, regions, content_mask=cmask)}
    times: dict[str, list[float]] = {k: [] for k in calls}
    for fn in calls.values():  # warm-up
        fn(), fn()
    for _ in range(args.runs):
        for k, fn in calls.items():
            t0 = time.perf_counter()
            fn()
            times[k].append(time.perf_counter() - t0)
    med = {k: 1000 * statistics.median(v) for k, v in times.items()}
    print(
        f"{w}x{h}, threads {args.threads}, feather {args.feather:g}, {args.regions} regions, {args.runs} "
        "runs each"
    )
    for k, v in med.items():
        print(f"{k}: {v:.0f} ms/frame (median; min {1000 * min(times[k]):.0f})")
    print(f"masked / global: {med['masked'] / med['global']:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
