"""Blend two sets of weights of the same architecture: ``(1 - t) * A + t * B``, every tensor.

    python tools/blend_weights.py rest_video/weights/rest_16x5.safetensors \
        rest_video/weights/rest_16x5_look.safetensors --t 0.9 --out blend90.safetensors

A look between two fine-tunings of one network (EVAL.md, "The look": the default weights and
the look weights, blended). Either input may be a ``.safetensors`` file or a training ``.pt``
(its moving average when it has one). BatchNorm running statistics blend like the weights.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from rest_video import RestVideoError
from rest_video.models import load_checkpoint, save_weights
from rest_video.models.rest import REST


def blend(a: REST, b: REST, t: float) -> REST:
    """A new model with ``(1 - t) * a + t * b`` for every floating-point tensor (integer buffers
    from ``b``)."""
    if a.cfg != b.cfg:
        raise RestVideoError(f"the two sets of weights differ in architecture: {a.cfg} vs {b.cfg}")
    sa, sb = a.state_dict(), b.state_dict()
    out = REST(a.cfg)
    out.load_state_dict({k: sa[k].lerp(sb[k], t) if sa[k].is_floating_point() else sb[k] for k in sa})
    return out.eval()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python tools/blend_weights.py", description=__doc__.splitlines()[0])
    ap.add_argument("a", type=Path, help="weights at t = 0")
    ap.add_argument("b", type=Path, help="weights at t = 1")
    ap.add_argument("--t", type=float, required=True, help="how far from A to B (0..1)")
    ap.add_argument("--out", type=Path, required=True, help=".safetensors to write")
    args = ap.parse_args(argv)
    try:
        if not (math.isfinite(args.t) and 0.0 <= args.t <= 1.0):
            raise RestVideoError(f"--t must be in 0..1, got {args.t}")
        if args.out.resolve() in (args.a.resolve(), args.b.resolve()):
            raise RestVideoError(f"--out {args.out} is an input; write the blend to a new file")
        model = blend(load_checkpoint(args.a), load_checkpoint(args.b), args.t)
        save_weights(
            model, args.out, extra={"blend": f"{1 - args.t:g} x {args.a.name} + {args.t:g} x {args.b.name}"}
        )
    except RestVideoError as e:
        print(f"blend_weights: {e}", file=sys.stderr)
        return 2
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
