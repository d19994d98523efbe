"""SHA-256 of the forms a CPU without bf16 or exact int8 units can still run, for bit-identity checks.

    python tools/form_hashes.py --checkpoint pinned.safetensors --out forms-before.json
    ... change the code ...
    python tools/form_hashes.py --checkpoint pinned.safetensors --compare forms-before.json

tools/output_hashes.py hashes what the CPU runs as shipped; this adds the code paths it cannot:
the int8 form forced on where oneDNN's int8 kernels are not exact (``int8_available`` is
overridden: the numbers are wrong there, but deterministic, so the code path is checked), and
bf16 / fp16 on the generic backend. Each: plain frames (a sequence, so int8's scales follow it), a
batch, a masked frame and frames in bands. One thread, pinned weights.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tools.output_hashes import digest, report  # noqa: E402


def force_int8() -> None:
    """Offer int8 on any CPU (its kernels saturate without VNNI / AMX-int8: for checks only)."""
    import rest_video.models.int8 as int8

    int8.int8_available = lambda: True
    try:
        import rest_video.models.build as build  # where build_inference reads it (issue 30 on)

        build.int8_available = lambda: True
    except ImportError:
        pass


def hashes(checkpoint: str) -> dict[str, str]:
    from rest_video import Stylizer, load_pipeline
    from rest_video.io.clips import read_clip

    force_int8()
    styles = ROOT / "samples" / "styles"
    frames = read_clip(ROOT / "samples" / "street.mp4", 6, side=256)
    h, w = frames[0].shape[:2]
    cmask = np.zeros((h, w, 3), np.uint8)
    cmask[:, w // 2:] = (255, 0, 0)
    out = {}
    for prec in ["int8", "bf16", "fp16"]:
        st = Stylizer(load_pipeline(None, {"model.checkpoint": checkpoint, "style.cache": False,
                                           "runtime.precision": prec}))
        style = st.load_style(styles / "dune.jpg")
        plain = [st.stylize(f, style, 0.9) for f in frames]
        out[prec] = digest(plain + [st.stylize(np.stack(frames[:2]), style)])
        rstyle = st.load_style(styles / "forest-path.jpg", mask=np.ascontiguousarray(cmask[:100, :120]))
        out[prec + "_masked"] = digest([st.stylize(f, rstyle, content_mask=cmask) for f in frames[:2]])
        st.limit_memory(4 << 20)
        out[prec + "_tiled"] = digest([st.stylize(f, style) for f in frames[:2]])
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python tools/form_hashes.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--checkpoint", required=True, help="pinned weights (.safetensors)")
    p.add_argument("--out", help="write the hashes as JSON")
    p.add_argument("--compare", help="a JSON of earlier hashes: exit 1 unless every one is equal")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    got = hashes(args.checkpoint)
    return report(got, args.out, args.compare)


if __name__ == "__main__":
    raise SystemExit(main())
