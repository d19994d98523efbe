"""tools/bench_variants.py: the alternatives behind the CPU defaults, on a tiny size."""

import json

import pytest


def test_bench_variants_tiny(tmp_path, random_weights, style_image, capsys):
    from tools.bench_variants import main

    out = tmp_path / "variants.json"
    rc = main(["--sizes", "24x16", "--frames", "1",
               "--style", str(style_image), "--checkpoint", str(random_weights), "--json", str(out), "-q"])
    assert rc == 0
    rep = json.loads(out.read_text())
    rows = {r["variant"]: r for r in rep["variants"]}
    assert rows["eager fp32 (reference)"]["speedup"] == pytest.approx(1.0)
    assert all(r["max_u8_diff"] <= 1 for r in rep["variants"])
    exact = [r for r in rep["layer_variants"] if r["max_abs_err"] is not None]
    assert len(exact) == 3 and all(r["max_abs_err"] < 1e-4 for r in exact)
    assert "tools/bench_variants.py" in rep["command"]
    assert "variants at 24x16" in capsys.readouterr().out


def test_bench_variants_user_error_is_one_line(capsys):
    from tools.bench_variants import main

    assert main(["--frames", "0"]) == 2
    assert capsys.readouterr().err.count("\n") == 1
