"""runtime.precision auto on the CPU (rest_video.engine.precision): features, probe, cache."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch

import rest_video.engine.precision as prec
from rest_video.core.cpu import CpuFeatures
from rest_video.engine.precision import PrecisionChoice, ProbeResult, choose_cpu_precision, pick

AVX2 = CpuFeatures("AMD EPYC", frozenset({"avx2", "fma"}), "AVX2")
AMX = CpuFeatures(
    "Intel Xeon 8480+", frozenset({"avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile"}), "AVX512"
)


@pytest.fixture(scope="module")
def model():
    from rest_video.models import create_model

    return create_model("rest_16x5")


def _no_probe(*a, **k):
    raise AssertionError("the probe must not run")


def _probe_with(results):
    calls = []

    def fn(model, cands):
        calls.append(list(cands))
        return {c: results[c] for c in cands}
    fn.calls = calls
    return fn


def test_no_bf16_units_means_fp32_without_a_probe(model, tmp_path):
    c = choose_cpu_precision(model, "w", features=AVX2, cache_root=tmp_path, probe_fn=_no_probe)
    assert c.precision == "fp32" and c.dtype == torch.float32 and c.source == "features"
    assert "AVX2, FMA" in c.reason
    assert not list(tmp_path.iterdir())  # nothing measured, nothing cached


def test_bf16_chosen_when_faster_and_exact_enough_then_cached(model, tmp_path, monkeypatch):
    monkeypatch.setattr(prec, "auto_candidates", lambda f=None: ["fp32", "bf16"])
    fn = _probe_with({"fp32": ProbeResult(100.0, float("inf"), 0), "bf16": ProbeResult(38.0, 52.5, 2)})
    c = choose_cpu_precision(model, "w1", features=AMX, cache_root=tmp_path, probe_fn=fn)
    assert (c.precision, c.source, c.dtype) == ("bf16", "probe", torch.bfloat16)
    assert "2.63x" in c.reason and "52.5 dB" in c.reason
    assert c.ms == {"fp32": 100.0, "bf16": 38.0} and c.max_diff == {"bf16": 2}
    # the second process on this machine reads the cache: no probe
    again = choose_cpu_precision(model, "w1", features=AMX, cache_root=tmp_path, probe_fn=_no_probe)
    assert (again.precision, again.source, again.ms) == ("bf16", "cache", c.ms)
    # other weights, another CPU (flags), another thread count: probed again
    choose_cpu_precision(model, "w2", features=AMX, cache_root=tmp_path, probe_fn=fn)
    other = CpuFeatures(AMX.model, AMX.flags | {"avx512_fp16"}, AMX.capability)
    choose_cpu_precision(model, "w1", features=other, cache_root=tmp_path, probe_fn=fn)
    assert prec.cache_key(AMX, "w1", threads=1) != prec.cache_key(AMX, "w1", threads=2)
    assert len(fn.calls) == 3
    # without the cache: probed every time
    choose_cpu_precision(model, "w1", features=AMX, use_cache=False, cache_root=tmp_path, probe_fn=fn)
    assert len(fn.calls) == 4


@pytest.mark.parametrize("bf16, why", [
    (ProbeResult(95.0, 52.0, 2), "not faster"),       # under the 10 % margin
    (ProbeResult(40.0, 41.0, 3), "breaks its contract"),  # fast but loses the picture
    (ProbeResult(40.0, 50.0, 12), "breaks its contract"),  # a largest difference over the contract's
])
def test_fp32_kept_when_bf16_is_not_worth_it(bf16, why):
    precision, reason = pick({"fp32": ProbeResult(100.0, float("inf"), 0), "bf16": bf16})
    assert precision == "fp32" and why in reason


def test_bad_or_stale_cache_is_ignored(model, tmp_path, monkeypatch):
    monkeypatch.setattr(prec, "auto_candidates", lambda f=None: ["fp32", "bf16"])
    fn = _probe_with({"fp32": ProbeResult(100.0, float("inf"), 0), "bf16": ProbeResult(30.0, 52.0, 2)})
    key = prec.cache_key(AMX, "w")
    path = prec.cache_path(key, tmp_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    for junk in (
        "not json",
        "{}",
        '{"precision": "int4", "reason": "", "source": "probe", "candidates": ["fp32", "bf16"],'
        ' "ms": {}, "psnr_db": {}, "max_diff": {}}',
    ):
        path.write_text(junk)
        assert (
            choose_cpu_precision(model, "w", features=AMX, cache_root=tmp_path, probe_fn=fn).source == "probe"
        )
    assert len(fn.calls) == 3
    # an unwritable cache folder costs a probe next time, never the run
    blocked = tmp_path / "file"
    blocked.write_text("")
    assert choose_cpu_precision(model, "w", features=AMX, cache_root=blocked, probe_fn=fn).precision == "bf16"


def test_real_probe_measures_and_compares(model):
    """The probe itself on a small real photo: fp32 and bf16 (generic backend where the CPU has no
    native bf16) timed, bf16 within its contract of fp32."""
    content, style = prec.probe_images((96, 54))
    assert content.shape == (54, 96, 3) and content.dtype == np.uint8
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        res = prec.probe(model, ["fp32", "bf16"], runs=1, images=(content, style))
    finally:
        torch.set_num_threads(n)
    assert set(res) == {"fp32", "bf16"}
    assert res["fp32"].psnr_db == float("inf") and res["fp32"].max_diff == 0
    assert all(r.ms > 0 for r in res.values())
    assert prec.meets_contract("bf16", res["bf16"].psnr_db, res["bf16"].max_diff), res["bf16"]


def test_stylizer_reports_the_auto_choice(caplog, random_weights, monkeypatch):
    from rest_video import Stylizer, load_pipeline

    cfg = {"model.checkpoint": str(random_weights), "runtime.device": "cpu"}
    with caplog.at_level(logging.DEBUG, logger="rest_video"):
        st = Stylizer(load_pipeline(None, cfg))
    choice = st.precision_choice
    assert isinstance(choice, PrecisionChoice) and st.precision == choice.precision
    assert f"precision auto: {choice.precision}" in caplog.text
    # a CPU without bf16 units keeps fp32; an explicit precision is not probed
    monkeypatch.setattr(prec, "cpu_features", lambda: AVX2)
    assert Stylizer(load_pipeline(None, cfg)).precision == "fp32"
    monkeypatch.setattr(prec, "choose_cpu_precision", _no_probe)
    st = Stylizer(load_pipeline(None, {**cfg, "runtime.precision": "bf16"}))
    assert st.precision == "bf16" and st.precision_choice is None
    assert Stylizer(load_pipeline(None, {**cfg, "runtime.optimized": False})).precision == "fp32"


def test_cli_verbose_reports_the_choice(tmp_path, capsys, random_weights, style_image):
    import cv2
    from media import make_frame

    from rest_video.cli.main import main

    img = tmp_path / "in.png"
    cv2.imwrite(str(img), make_frame(40, 30, 1))
    base = [str(img), str(style_image), str(tmp_path / "out.png"), "--checkpoint", str(random_weights), "-y",
            "--device", "cpu"]
    assert main(base + ["-v"]) == 0
    err = capsys.readouterr().err
    assert "rest-video: precision auto: " in err
    assert main(base) == 0  # not verbose: no such line (and -v does not stick to the process)
    assert "precision auto" not in capsys.readouterr().err


def test_a_failing_probe_keeps_fp32(model, tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(prec, "auto_candidates", lambda f=None: ["fp32", "bf16"])

    def broken(model, cands):
        raise RuntimeError("mkldnn pointwise binary: bf16 path needs the cpu support ...\nmore")

    with caplog.at_level(logging.WARNING, logger="rest_video"):
        c = choose_cpu_precision(model, "w", features=AMX, cache_root=tmp_path, probe_fn=broken)
    assert c.precision == "fp32" and "probe failed (mkldnn pointwise binary" in c.reason
    assert "running fp32" in caplog.text and "more" not in caplog.text
    assert not list(tmp_path.rglob("*.json"))  # not cached: the next run tries again


def test_mkldnn_bf16_check_agrees_with_torch():
    from rest_video.models.backends import mkldnn_available, mkldnn_bf16_available

    native = mkldnn_available() and bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    # where torch says native bf16, the fused call must also compute the expected values
    assert mkldnn_bf16_available() == native


VNNI = CpuFeatures("Intel Xeon 6248", frozenset({"avx2", "fma", "avx512f", "avx512_vnni"}), "AVX512")


def test_vnni_makes_int8_a_candidate_without_bf16():
    """A CPU with int8 dot products but no bf16 units (e.g. Cascade Lake) probes fp32 against int8."""
    from rest_video.models.int8 import int8_available

    if not int8_available():
        pytest.skip("no exact int8 here (VNNI / AMX-int8 and oneDNN's int8 ops)")
    assert prec.auto_candidates(VNNI) == ["fp32", "int8"]
    assert prec.auto_candidates(AVX2) == ["fp32"]


def test_int8_chosen_when_fastest_and_the_stylizer_runs_it(model, tmp_path, monkeypatch, random_weights):
    from rest_video import Stylizer, load_pipeline
    from rest_video.models.int8 import Int8Inference, int8_available

    if not int8_available():
        pytest.skip("no exact int8 here (VNNI / AMX-int8 and oneDNN's int8 ops)")
    monkeypatch.setattr(prec, "auto_candidates", lambda f=None: ["fp32", "bf16", "int8"])
    fn = _probe_with({"fp32": ProbeResult(100.0, float("inf"), 0), "bf16": ProbeResult(58.0, 54.0, 2),
                      "int8": ProbeResult(39.0, 49.5, 5)})
    c = choose_cpu_precision(model, "w", features=VNNI, cache_root=tmp_path, probe_fn=fn)
    assert (c.precision, c.dtype) == ("int8", torch.float32) and "int8 39 ms" in c.reason
    # over its contract, int8 is not taken even when fastest
    fn = _probe_with({"fp32": ProbeResult(100.0, float("inf"), 0), "bf16": ProbeResult(58.0, 54.0, 2),
                      "int8": ProbeResult(39.0, 44.0, 5)})
    assert choose_cpu_precision(model, "w", features=VNNI, use_cache=False, probe_fn=fn).precision == "bf16"
    # the Stylizer builds what auto chose, and says so
    monkeypatch.setattr(prec, "choose_cpu_precision", lambda *a, **k: c)
    st = Stylizer(load_pipeline(None, {"model.checkpoint": str(random_weights), "runtime.device": "cpu"}))
    assert isinstance(st.net, Int8Inference) and st.precision == "int8"
    from media import make_frame

    out = st.stylize(make_frame(160, 120, 1), st.load_style(make_frame(40, 30, 7), use_cache=False))
    assert out.shape == (120, 160, 3) and out.dtype == np.uint8


def test_int8_on_cuda_is_a_clear_error():
    from rest_video.core.devices import resolve_dtype
    from rest_video.core.errors import ConfigError

    with pytest.raises(ConfigError, match="CPU only"):
        resolve_dtype("int8", torch.device("cuda"))
    assert resolve_dtype("int8", torch.device("cpu")) == torch.float32


def test_a_candidate_that_does_not_run_is_dropped_alone(model, monkeypatch, caplog):
    """A kernel this CPU / torch refuses for one reduced precision leaves the others in the probe."""
    import rest_video.models.build as build

    real = build.build_inference

    def refusing(model, device=None, precision="fp32", backend="auto", channels_last=True):
        if precision == "int8":
            raise RuntimeError("onednn qconv: unsupported isa\nmore")
        return real(model, device, precision, backend, channels_last)

    monkeypatch.setattr(build, "build_inference", refusing)
    content, style = prec.probe_images((96, 54))
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with caplog.at_level(logging.WARNING, logger="rest_video"):
            res = prec.probe(model, ["fp32", "bf16", "int8"], runs=1, images=(content, style))
    finally:
        torch.set_num_threads(n)
    assert set(res) == {"fp32", "bf16"}
    assert (
        "int8 does not run here (onednn qconv: unsupported isa)" in caplog.text and "more" not in caplog.text
    )


def test_int8_asked_where_it_is_not_exact_is_one_clear_line(
    tmp_path, capsys, random_weights, style_image, monkeypatch
):
    """--precision int8 on a CPU without exact int8 (no VNNI / AMX-int8): one line, exit 2."""
    import cv2
    from media import make_frame

    import rest_video.models.int8 as int8
    from rest_video.cli.main import main

    monkeypatch.setattr(int8, "int8_available", lambda: False)
    img = tmp_path / "in.png"
    cv2.imwrite(str(img), make_frame(40, 30, 1))
    rc = main([str(img), str(style_image), str(tmp_path / "out.png"), "--checkpoint", str(random_weights),
               "--device", "cpu", "--precision", "int8"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and "VNNI or AMX-int8" in err[0]
    assert not (tmp_path / "out.png").exists()
