"""CPU features from /proc/cpuinfo (rest_video.core.cpu)."""

from __future__ import annotations

from rest_video.core.cpu import CpuFeatures, cpu_features, parse_cpuinfo

EPYC = """processor\t: 0
vendor_id\t: AuthenticAMD
model name\t: AMD EPYC
flags\t\t: fpu sse sse2 avx fma avx2 bmi2
processor\t: 1
model name\t: other
flags\t\t: fpu
"""
SPR = ("model name\t: Intel(R) Xeon(R) Platinum 8480+\n"
       "flags\t: avx2 fma avx512f avx512_bf16 avx512_vnni amx_bf16 amx_tile amx_int8\n")


def test_parse_first_processor():
    model, flags = parse_cpuinfo(EPYC)
    assert model == "AMD EPYC"
    assert flags == frozenset("fpu sse sse2 avx fma avx2 bmi2".split())
    assert parse_cpuinfo("") == ("", frozenset())


def test_matrix_units():
    epyc = CpuFeatures(*parse_cpuinfo(EPYC), "AVX2")
    assert not epyc.native_bf16 and not epyc.amx_bf16 and not epyc.vnni
    assert epyc.matrix_units() == "AVX2, FMA"
    spr = CpuFeatures(*parse_cpuinfo(SPR), "AVX512")
    assert spr.native_bf16 and spr.amx_bf16 and spr.vnni
    assert spr.matrix_units().startswith("AMX-bf16, AMX tiles, AMX-int8, AVX512-bf16")
    # AVX512-bf16 without AMX is native bf16 too; AMX-bf16 without tiles is not AMX
    assert CpuFeatures("x", frozenset({"avx512_bf16"}), "AVX512").native_bf16
    assert not CpuFeatures("x", frozenset({"amx_bf16"}), "AVX512").amx_bf16
    assert CpuFeatures("x", frozenset(), "?").matrix_units().startswith("none of")


def test_this_machine():
    f = cpu_features()
    assert f.model and isinstance(f.flags, frozenset) and f.capability
