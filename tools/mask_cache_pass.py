"""A pass over real masked pairs (issue 31): the BSDS500 sky pairs of docs/mask-pairs.tsv with
rule-derived sky masks, plus variants that leave a style region tiny, make the style mask one label,
add a content-only label or a tiny third style label. Each runs the CLI twice with the cache on
(write, then read) and once with --no-cache; it prints the tracebacks, failures and differences.

    python tools/mask_cache_pass.py
"""

import csv
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tools.mask_eval import sky_mask

root = Path(__file__).resolve().parent.parent / "docs"
lines = [line for line in open(root / "mask-pairs.tsv") if not line.startswith("#")]
rows = list(csv.reader(lines, delimiter="\t"))[1:]
tmp = Path(tempfile.mkdtemp(prefix="mask-cache-pass-"))
env = dict(os.environ, REST_VIDEO_CACHE=str(tmp / "cache"))


def save(p, lab):
    m = np.zeros((*lab.shape, 3), np.uint8)
    m[lab == 1] = 255
    m[lab == 2] = (0, 0, 255)
    cv2.imwrite(str(p), m)
    return p


runs = tb = bad = 0
for i, (c, s) in enumerate(rows):
    c, s = (root / c).resolve(), (root / s).resolve()
    ci, si = (
        cv2.cvtColor(cv2.imread(str(c)), cv2.COLOR_BGR2RGB),
        cv2.cvtColor(cv2.imread(str(s)), cv2.COLOR_BGR2RGB),
    )
    cm, sm = (sky_mask(ci) > 0).astype(np.uint8), (sky_mask(si) > 0).astype(np.uint8)
    variants = {"sky": (cm, sm)}
    t = sm.copy()
    t[:] = 0
    t[:20, :20] = 1
    variants["style-sky-tiny"] = (cm, t)
    t = sm.copy()
    t[:] = 0
    variants["style-one-label"] = (cm, t)
    t = cm.copy()
    t[-30:, -30:] = 2
    variants["content-only-label"] = (t, sm)
    t = sm.copy()
    t[:12, :12] = 2
    variants["style-third-tiny"] = (cm, t)
    for name, (a, b) in variants.items():
        cp, sp = save(tmp / f"{i}-{name}-c.png", a), save(tmp / f"{i}-{name}-s.png", b)
        outs = []
        for k, extra in enumerate([[], [], ["--no-cache"]]):
            out = tmp / f"{i}-{name}-{k}.png"
            r = subprocess.run(
                [
                    "rest-video",
                    str(c),
                    str(s),
                    str(out),
                    "--content-mask",
                    str(cp),
                    "--style-mask",
                    str(sp),
                    "-y",
                    "-q",
                    *extra,
                ],
                env=env,
                capture_output=True,
                text=True,
            )
            runs += 1
            tb += "Traceback" in r.stderr
            bad += r.returncode != 0
            if r.returncode:
                print(i, name, k, r.stderr.strip().splitlines()[-1:])
            outs.append(cv2.imread(str(out)))
        if not (np.array_equal(outs[0], outs[2]) and np.array_equal(outs[1], outs[2])):
            print(i, name, "cache and --no-cache differ")
            bad += 1
print(
    f"{len(rows)} pairs x {len(variants)} mask variants: {runs} runs, {tb} tracebacks, {bad} failures or "
    "differences"
)
