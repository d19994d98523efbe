"""tools/precision_quality.py: bf16 and simulated int8 against fp32, on tiny generated media."""

import json

import numpy as np
import torch


def test_precision_quality_tiny(tmp_path, random_weights, capsys):
    import cv2
    from media import make_clip, make_frame

    from tools.precision_quality import main

    clip = make_clip(tmp_path / "c.mp4", w=40, h=32, n=5)
    for name, i in (("a.png", 1), ("b.png", 7)):
        cv2.imwrite(str(tmp_path / name), make_frame(36, 28, i))
    (tmp_path / "pairs.tsv").write_text("content\tstyle\na.png\tb.png\n")
    out = tmp_path / "q.json"
    rc = main(
        [
            "--video",
            str(clip),
            "--frames",
            "2",
            "--pairs",
            str(tmp_path / "pairs.tsv"),
            "--threads",
            "1",
            "--checkpoint",
            str(random_weights),
            "--no-int8",
            "--json",
            str(out),
        ]
    )
    assert rc == 0
    rep = json.loads(out.read_text())["sources"]
    assert set(rep) == {"c.mp4", "a.png"} and rep["c.mp4"]["bf16"]["frames"] == 2
    assert all(r["bf16"]["psnr_db"] >= 45 for r in rep.values())
    assert "over all sources: bf16" in capsys.readouterr().out


def test_int8_simulation_quantizes(random_weights):
    from rest_video.models import load_weights
    from rest_video.models.build import build_inference
    from tools.precision_quality import Int8Simulated, stylize_frames

    model = load_weights(str(random_weights), "rest_16x5")[0].eval()
    frames = [np.random.default_rng(0).integers(0, 256, (20, 24, 3), dtype=np.uint8)]
    st = model.style_stats(torch.rand(1, 3, 20, 20))
    ref = stylize_frames(build_inference(model, "cpu", torch.float32), frames, st)[0].astype(int)
    dyn = stylize_frames(Int8Simulated(model), frames, st)[0]
    static = Int8Simulated(model, static=True)
    static.calibrate(frames, [st])
    assert len(static.maxima) == 12  # every conv input: 5 encoder, 5 decoder + 2 skips
    same = stylize_frames(static, frames, st)[0]  # calibrated on this very frame: equals dynamic
    assert np.array_equal(same, dyn)
    assert 0 < np.abs(dyn - ref).max() < 64  # quantized: close, not equal


def test_no_sources_is_one_line(capsys):
    from tools.precision_quality import main

    assert main([]) == 2
    assert capsys.readouterr().err.count("\n") == 1
