"""rest_video.core.schema: ranges declared next to the fields, worded the same in every error."""

import re
from dataclasses import dataclass, fields

import pytest

from rest_video.core.config import LiveCfg, PipelineConfig, RuntimeCfg, StyleCfg, TemporalCfg
from rest_video.core.errors import ConfigError
from rest_video.core.schema import Bounds, bounded, build, check_bounds


@pytest.mark.parametrize(
    "bounds, text",
    [
        (Bounds(ge=16, le=8192), "in 16..8192"),
        (Bounds(ge=0.0, lt=1.0), "in [0, 1)"),
        (Bounds(gt=0.0, le=255.0), "in (0, 255]"),
        (Bounds(ge=1), ">= 1"),
        (Bounds(gt=0.0), "> 0"),
        (Bounds(le=3), "<= 3"),
    ],
)
def test_ranges_in_words(bounds, text):
    assert bounds.text() == text


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: StyleCfg(max_side=8), "style.max_side must be in 16..8192, got 8"),
        (lambda: StyleCfg(strength="x"), "style.strength must be a number in [0, 1], got 'x'"),
        (lambda: RuntimeCfg(threads=999), "runtime.threads must be in 0..256 (0 = torch's default), got 999"),
        (
            lambda: RuntimeCfg(max_memory_mb=0),
            "runtime.max_memory_mb must be in 1..1048576 (megabytes), got 0",
        ),
        (lambda: TemporalCfg(smoothing=1.0), "temporal.smoothing must be in [0, 1), got 1.0"),
        (
            lambda: TemporalCfg(still=20.0),
            "temporal.still and temporal.moving need 0 <= still < moving <= 255",
        ),
        (lambda: LiveCfg(fade=2000), "live.fade must be in 0..1000 frames, got 2000"),
        (lambda: LiveCfg(size=(640, 8)), "live.size: width and height must be in 16..8192, got [640, 8]"),
        (lambda: LiveCfg(fps=0.0), "live.fps must be in (0, 1000], got 0.0"),
    ],
)
def test_a_section_built_by_hand_names_its_key(make, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        make()


def test_every_number_of_the_pipeline_has_a_range_or_is_a_choice():
    """A new numeric key without bounds would take any value a typo gives it."""
    unbounded = []
    for section in fields(PipelineConfig):
        for f in fields(section.default_factory()):
            if (
                f.type in ("int", "float", "int | None", "float | None", "tuple[int, int] | None")
                and "bounds" not in f.metadata
                and (section.name, f.name) not in {("temporal", "still"), ("temporal", "moving")}
            ):
                unbounded.append(f"{section.name}.{f.name}")
    assert unbounded == []


def test_build_prefixes_the_key_path_of_a_nested_section():
    @dataclass(frozen=True)
    class Inner:
        n: int = bounded(1, ge=1, le=3)

        def __post_init__(self) -> None:
            check_bounds(self)

    @dataclass(frozen=True)
    class Outer:
        inner: Inner = Inner()

    with pytest.raises(ConfigError, match=re.escape("inner.n must be in 1..3, got 7")):
        build(Outer, {"inner": {"n": 7}})
    with pytest.raises(ConfigError, match=re.escape("unknown config key 'inner.m'")):
        build(Outer, {"inner": {"m": 7}})
