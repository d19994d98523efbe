"""`rest-video bench` and rest_video.evaluation.speed on tiny sizes."""

import json


def test_bench_tiny_sizes_writes_json(tmp_path, random_weights, style_image):
    from rest_video.cli.main import main

    out = tmp_path / "bench.json"
    rc = main(["bench", "--device", "cpu", "--sizes", "32x24,17x9", "--frames", "2", "--json", str(out),
               "--no-video", "--style", str(style_image), "--checkpoint", str(random_weights), "-q"])
    assert rc == 0
    rep = json.loads(out.read_text())
    assert [(s["width"], s["height"]) for s in rep["sizes"]] == [(32, 24), (17, 9)]
    for s in rep["sizes"]:
        assert s["optimized_ms"] > 0 and s["eager_ms"] > 0 and s["speedup"] > 0
        assert s["max_u8_diff"] <= 1
        assert set(s["stages_ms"]) == {"decode", "upload", "infer", "download", "encode"}
    assert rep["end_to_end"] is None


def test_bench_end_to_end_on_a_tiny_video(tmp_path, random_weights, style_image):
    from media import make_clip

    from rest_video.evaluation.speed import run_bench

    clip = make_clip(tmp_path / "clip.mp4", w=32, h=24, n=4)
    rep = run_bench(device="cpu", sizes=[(16, 12)], frames=1, video=clip, style=style_image,
                    checkpoint=str(random_weights), video_frames=3, reference=False)
    e = rep["end_to_end"]
    assert e["frames"] == 3 and e["fps"] > 0 and e["overlap_efficiency"] > 0
    assert rep["sizes"][0]["eager_ms"] is None


def test_bench_user_errors(style_image):
    from rest_video.cli.main import main

    assert main(["bench", "--device", "cpu", "--sizes", "12by7", "--no-video"]) == 2
    assert main(["bench", "--device", "cpu", "--sizes", "16x16", "--frames", "0", "--no-video"]) == 2
    assert main(["bench", "--device", "cpu", "--sizes", "16x16", "--video", "/nonexistent.mp4"]) == 2
    assert (
        main(["bench", "--device", "cpu", "--sizes", "16x16", "--no-video", "--style", "/nonexistent.jpg"])
        == 2
    )


def test_bench_variants_moved_to_the_lab(capsys):
    from rest_video.cli.main import main

    assert main(["bench", "--variants", "--device", "cpu", "--no-video"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "tools/bench_variants.py" in err


def test_bench_per_precision(tmp_path, random_weights, style_image, capsys):
    from rest_video.cli.main import main

    out = tmp_path / "bench.json"
    rc = main(
        [
            "bench",
            "--device",
            "cpu",
            "--sizes",
            "24x16",
            "--frames",
            "1",
            "--json",
            str(out),
            "--no-video",
            "--no-reference",
            "--style",
            str(style_image),
            "--checkpoint",
            str(random_weights),
            "-q",
            "--precisions",
            "bf16,fp32",
            "--threads",
            "1",
        ]
    )
    assert rc == 0
    text = capsys.readouterr().out
    rep = json.loads(out.read_text())
    rows = {r["precision"]: r for r in rep["precisions"]}
    assert list(rows) == ["fp32", "bf16"]  # fp32 first: the reference of the others
    for r in rows.values():
        assert r["macs_per_pixel"] == 23904  # the ten folded 3x3 convs of the 16x5 model
        assert r["gemm_gmacs"] > 0 and r["gemm_n"] >= 256
        (s,) = r["sizes"]
        assert s["ms"] > 0 and s["fraction_of_gemm"] > 0
        assert abs(s["gmacs"] - 23904 * 24 * 16 / s["ms"] / 1e6) < 1e-6 * s["gmacs"]
    bf = rows["bf16"]["sizes"][0]
    assert bf["psnr_db"] >= 45 and bf["max_diff"] <= 8  # the bf16 contract, on random weights
    auto = rep["precision_auto"]
    assert auto["precision"] == rep["precision"] and auto["reason"]
    assert f"precision auto: {auto['precision']}" in text and "of GEMM" in text and "23,904 MAC/pixel" in text


def test_bench_precisions_option(capsys):
    from rest_video.cli.main import main

    assert main(["bench", "--device", "cpu", "--sizes", "16x16", "--no-video", "--precisions", "fp8"]) == 2
    assert "--precisions" in capsys.readouterr().err


def test_bench_end_to_end_in_fp32_beside_what_auto_chose(tmp_path, random_weights, style_image, monkeypatch):
    from media import make_clip

    from rest_video.engine import precision
    from rest_video.evaluation.speed import run_bench
    from rest_video.evaluation.speed_report import format_report

    # what auto picks on a CPU with bf16 matrix units (forced: the test runs on any CPU)
    monkeypatch.setattr(
        precision,
        "choose_cpu_precision",
        lambda *a, **k: precision.PrecisionChoice("bf16", "forced by the test", "features", ["fp32", "bf16"]),
    )
    clip = make_clip(tmp_path / "clip.mp4", w=32, h=24, n=4)
    rep = run_bench(device="cpu", sizes=[(16, 12)], frames=1, video=clip, style=style_image,
                    checkpoint=str(random_weights), video_frames=3, reference=False, precisions="fp32,bf16")
    assert rep["precision"] == "bf16"
    assert rep["end_to_end"]["frames"] == rep["end_to_end_fp32"]["frames"] == 3
    assert "bf16 over fp32" in format_report(rep)
    rep = run_bench(device="cpu", sizes=[(16, 12)], frames=1, video=clip, style=style_image,
                    checkpoint=str(random_weights), video_frames=3, reference=False, precisions=None)
    assert "end_to_end_fp32" not in rep  # no per-precision table asked for: one end-to-end run


def test_bench_int8_against_the_eager_model_and_its_gemm(style_image, monkeypatch):
    """The int8 form takes uint8 frames; the eager reference gets the same frames as [0, 1] floats
    (not 0..255), and the int8 row's GEMM is the int8 one."""
    from rest_video.engine import precision
    from rest_video.evaluation.speed import run_bench
    from rest_video.models.int8 import int8_available

    if not int8_available():
        import pytest

        pytest.skip("no exact int8 here (VNNI / AMX-int8 and oneDNN's int8 ops)")
    monkeypatch.setattr(
        precision,
        "choose_cpu_precision",
        lambda *a, **k: precision.PrecisionChoice("int8", "forced by the test", "features", ["fp32", "int8"]),
    )
    rep = run_bench(device="cpu", sizes=[(160, 120)], frames=2, style=style_image, checkpoint=None,
                    video=None, precisions="fp32,int8")  # the shipped weights: random ones hide a wrong input
    assert rep["precision"] == "int8"
    assert rep["sizes"][0]["max_u8_diff"] <= 8  # against the eager fp32 model
    rows = {r["precision"]: r for r in rep["precisions"]}
    (s,) = rows["int8"]["sizes"]
    assert s["psnr_db"] >= 45 and s["max_diff"] <= 8
    assert rows["int8"]["gemm_gmacs"] != rows["fp32"]["gemm_gmacs"]
