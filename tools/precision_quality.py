"""How far each reduced precision's output is from fp32's on real frames (the accuracy contract of
rest_video.engine.precision), and whether int8 could keep the picture.

    python tools/precision_quality.py --video ../shared/data/video/vtest.avi --frames 8 \\
        --pairs ../shared/data/dev-pairs.tsv [--checkpoint F] [--json F]

Per source (the video's frames with the shipped evening-glow style; every dev pair with its style)
and per precision: PSNR over all frames together, the worst single frame's PSNR, and the largest
difference, in uint8 levels, against the fp32 inference form's output on the same input.

- ``bf16``: the inference form in bf16 (the in-place oneDNN backend on CPUs with native bf16, else
  the generic one; both round to bf16 after every conv).
- ``int8``: the int8 inference form (:mod:`rest_video.models.int8`, oneDNN's u8 x s8 convs, scales
  that follow the frames and never clip), run for real; the sources run one after another through
  one network, as a video's frames do (each pair's image is a scene cut for the scales).
- ``int8 dynamic (sim.)``: what oneDNN's int8 (VNNI) convs would compute at best: every conv's
  input quantized to uint8 with a per-tensor scale taken from that very tensor's maximum (per frame:
  better than any static calibration), weights to int8 per output channel (symmetric), the products
  summed exactly; statistics and the skip folding in fp32. No int8 kernel is run.
- ``int8 static (sim.)``: the same with each conv's input scale fixed beforehand (the maximum over
  the five shipped photos, each with the five as styles), as a real int8 chain needs (a conv's
  output scale must be known before it runs); inputs above it saturate.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

from rest_video import RestVideoError
from rest_video.core.log import show_library_log
from rest_video.engine.tensors import frames_to_tensor, tensor_to_uint8
from rest_video.evaluation.pairs import read_pairs
from rest_video.evaluation.report import machine_info
from rest_video.evaluation.speed import default_style, load_bench_model
from rest_video.evaluation.speed_report import write_json
from rest_video.io.clips import read_clip
from rest_video.io.image import read_image
from rest_video.io.video import VideoReader
from rest_video.metrics import psnr
from rest_video.models.backends import conv_generic
from rest_video.models.build import build_inference
from rest_video.models.inference import RESTInference
from rest_video.models.int8 import int8_available
from rest_video.resources import styles_dir

CPU = torch.device("cpu")


class Int8Simulated(RESTInference):
    """The folded network with every conv's input and weights fake-quantized as oneDNN's u8 x s8
    convs would take them (see the module docstring). ``static``: per-conv input scales fixed
    beforehand by :meth:`calibrate` (what a real int8 path needs: a conv's output scale must be known
    before it runs); else each input's own maximum (dynamic, the best case)."""

    def __init__(self, model, static: bool = False) -> None:
        super().__init__(model, CPU, torch.float32, "generic")
        self.static = static
        self.maxima: dict[int, float] = {}
        self._calibrating = False
        self._k = 0

    def forward(self, *a, **k):
        self._k = 0
        return super().forward(*a, **k)

    def calibrate(self, frames: list[np.ndarray], styles: list) -> None:
        """Per-conv input maxima over ``frames`` x ``styles`` (StyleStats)."""
        self._calibrating = True
        try:
            for st in styles:
                stylize_frames(self, frames, st)
        finally:
            self._calibrating = False

    def conv(self, inputs, bias, relu, dst, threads, area=None):
        q = []
        for x, w in inputs:
            k, self._k = self._k, self._k + 1
            m = float(x.max())
            if self._calibrating:
                self.maxima[k] = max(self.maxima.get(k, 0.0), m)
            s = (self.maxima[k] if self.static else m) / 255.0 or 1.0  # inputs >= 0: RGB or ReLU outputs
            xq = (x / s).round_().clamp_(0, 255).mul_(s)
            ws = w.abs().amax(dim=(1, 2, 3), keepdim=True).clamp_min(1e-12) / 127.0
            q.append((xq, (w / ws).round_().clamp_(-127, 127).mul_(ws)))
        return conv_generic(q, bias, relu, dst)


def stylize_frames(net, frames: list[np.ndarray], style) -> list[np.ndarray]:
    out = []
    with torch.inference_mode():
        for f in frames:
            x = frames_to_tensor(f[None], CPU, net.dtype)
            out.append(tensor_to_uint8(net(x, style).clamp_(0, 1))[0])
    return out


def compare(nets: dict, frames: list[np.ndarray], style) -> dict[str, dict]:
    ref = stylize_frames(nets["fp32"], frames, style)
    res = {}
    for name, net in nets.items():
        if name == "fp32":
            continue
        out = stylize_frames(net, frames, style)
        res[name] = {
            "psnr_db": psnr(out, ref),
            "worst_frame_db": min(psnr([o], [r]) for o, r in zip(out, ref, strict=False)),
            "max_diff": int(
                max(np.abs(o.astype(np.int16) - r).max() for o, r in zip(out, ref, strict=False))
            ),
            "frames": len(frames),
        }
    return res


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--video", help="frames of this video, stylized with the shipped evening-glow style")
    p.add_argument("--frames", type=int, default=8, help="frames of the video, spread over it (default 8)")
    p.add_argument("--pairs", help="content<TAB>style TSV (e.g. ../shared/data/dev-pairs.tsv)")
    p.add_argument("--max-side", type=int, default=768, help="long side of the pairs' images (default 768)")
    p.add_argument("--checkpoint", help="weights instead of the shipped ones")
    p.add_argument("--threads", type=int, default=0)
    p.add_argument(
        "--no-int8", action="store_true", help="skip the int8 simulations (the real int8 form still runs)"
    )
    p.add_argument("--json", help="also write the results as JSON")
    args = p.parse_args(argv)
    show_library_log()
    try:
        if args.threads:
            torch.set_num_threads(args.threads)
        model = load_bench_model(args.checkpoint).model.eval()
        nets = {"fp32": build_inference(model, CPU, torch.float32),
                "bf16": build_inference(model, CPU, torch.bfloat16)}
        if int8_available():
            nets["int8"] = build_inference(model, CPU, precision="int8")
        if not args.no_int8:
            nets["int8 dynamic (sim.)"] = Int8Simulated(model)
            static = nets["int8 static (sim.)"] = Int8Simulated(model, static=True)
            # calibration: the five shipped photos as content, each with the five as styles (none of
            # the measured frames or styles)
            photos = [read_image(p, 512) for p in sorted(styles_dir().glob("*.jpg"))]
            static.calibrate(
                photos, [model.style_stats(frames_to_tensor(p[None], CPU, torch.float32)) for p in photos]
            )
        sources = []
        if args.video:
            with VideoReader(args.video) as r:
                total = r.info.frames or args.frames
            idx = np.linspace(0, max(0, total - 1), max(1, args.frames)).round().astype(int)
            frames = [np.ascontiguousarray(f) for f in read_clip(args.video, pick=set(idx.tolist()))]
            sources.append((Path(args.video).name, frames, read_image(default_style(), 1024)))
        if args.pairs:
            for pair in read_pairs(args.pairs):
                sources.append((pair.content.name, [read_image(pair.content, args.max_side)],
                                read_image(pair.style, 1024)))
        if not sources:
            raise RestVideoError("give --video and/or --pairs")
        rows = {}
        totals: dict[str, list] = {k: [] for k in nets if k != "fp32"}
        for name, frames, style_img in sources:
            style = model.style_stats(frames_to_tensor(style_img[None], CPU, torch.float32))
            rows[name] = compare(nets, frames, style)
            for k, r in rows[name].items():
                totals[k].append(r)
            print(
                f"{name} ({frames[0].shape[1]}x{frames[0].shape[0]}, {len(frames)} frames): "
                + "; ".join(
                    f"{k} {r['psnr_db']:.1f} dB (worst frame {r['worst_frame_db']:.1f}), max diff "
                    f"{r['max_diff']}"
                    for k, r in rows[name].items()
                ),
                flush=True,
            )
        print(
            "over all sources: "
            + "; ".join(
                f"{k}: worst {min(r['worst_frame_db'] for r in rs):.1f} dB, median "
                f"{np.median([r['psnr_db'] for r in rs]):.1f} dB, "
                f"max diff {max(r['max_diff'] for r in rs)}"
                for k, rs in totals.items()
            )
        )
        print(f"bf16 backend: {nets['bf16'].backend}; {machine_info(CPU)['cpu']}, torch {torch.__version__}, "
              f"{torch.get_num_threads()} threads")
        if args.json:
            write_json({"sources": rows, "machine": machine_info(CPU)}, args.json)
    except RestVideoError as e:
        print(f"precision_quality: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
