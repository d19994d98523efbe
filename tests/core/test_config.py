import re
import time
from dataclasses import replace
from pathlib import Path

import pytest

import rest_video
from rest_video.cli.main import main
from rest_video.core.config import PipelineConfig, load_pipeline, to_dict
from rest_video.core.errors import ConfigError
from rest_video.resources import pipeline_names, pipelines_dir

ROOT = Path(__file__).resolve().parents[2]


def test_default_yaml_is_the_builtin_default():
    assert load_pipeline(ROOT / "pipelines" / "default.yaml") == PipelineConfig()


def test_every_shipped_pipeline_and_train_config_loads():
    names = pipeline_names()
    assert names == ["default", "fast-preview", "strong-look", "subtle", "train"]
    assert load_pipeline("default") == PipelineConfig()
    fast = load_pipeline("fast-preview")
    assert fast.output.preset == "veryfast" and fast != PipelineConfig()
    look = load_pipeline("strong-look")  # the old name of the default's weights
    assert (
        look.model.name == "rest_16x5.look"
        and replace(look, model=PipelineConfig().model) == PipelineConfig()
    )
    subtle = load_pipeline("subtle")  # only the weights differ from the defaults
    assert (
        subtle.model.name == "rest_16x5.subtle"
        and replace(subtle, model=PipelineConfig().model) == PipelineConfig()
    )


def test_pipelines_ship_inside_the_package_and_the_checkout_links_them():
    assert pipelines_dir().parent.parent == Path(rest_video.__file__).resolve().parent
    assert (ROOT / "pipelines").resolve() == pipelines_dir().resolve()
    assert load_pipeline(ROOT / "pipelines" / "fast-preview.yaml") == load_pipeline("fast-preview.yaml")


def test_unknown_pipeline_name_lists_the_shipped_ones():
    with pytest.raises(ConfigError, match="fast-preview"):
        load_pipeline("fast-previw")


def test_overrides_win_and_are_typed(tmp_path):
    f = tmp_path / "p.yaml"
    f.write_text("output:\n  crf: 30\nstyle:\n  strength: 0.5\n")
    cfg = load_pipeline(f, {"output.crf": 20})
    assert cfg.output.crf == 20 and cfg.style.strength == 0.5
    assert load_pipeline(None, ["live.size=640x480"]).live.size == (640, 480)
    assert to_dict(cfg)["output"]["crf"] == 20


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("output:\n  crff: 3\n", "output.crff"),
        ("outptu:\n  crf: 3\n", "outptu"),
        ("output:\n  crf: high\n", "output.crf"),
        ("style:\n  strength: 1.5\n", "style.strength"),
        ("runtime:\n  device: gpu\n", "runtime.device"),
        ("output: [1, 2]\n", "output"),
        ("output:\n  crf: [\n", "not valid YAML"),
    ],
)
def test_bad_yaml_names_the_key(tmp_path, text, fragment):
    f = tmp_path / "bad.yaml"
    f.write_text(text)
    with pytest.raises(ConfigError, match=fragment.replace("[", r"\[")):
        load_pipeline(f)


def test_cli_reports_yaml_errors_in_one_line(tmp_path, capsys, style_image):
    f = tmp_path / "bad.yaml"
    f.write_text("output:\n  crff: 3\n")
    rc = main([str(style_image), str(style_image), str(tmp_path / "o.png"), "--pipeline", str(f)])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and "output.crff" in err[0]
    assert not (tmp_path / "o.png").exists()


def _alias_bomb(levels: int) -> str:
    """The 'billion laughs' YAML: each level is nine aliases of the one before (9**(levels+1) strings)."""
    names = "abcdefghij"[: levels + 1]
    lines = ["a: &a [" + ",".join(["lol"] * 9) + "]"]
    for prev, name in zip(names, names[1:], strict=False):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("levels", [8, 9])
def test_an_alias_bomb_is_refused_at_once(tmp_path, levels):
    f = tmp_path / "bomb.yaml"
    f.write_text(_alias_bomb(levels))
    assert f.stat().st_size < 400                       # a few hundred bytes; expanded, 9**9 strings or more
    t0 = time.perf_counter()
    with pytest.raises(ConfigError, match="anchors .* not allowed"):
        load_pipeline(f)
    assert time.perf_counter() - t0 < 1.0


@pytest.mark.parametrize(
    "content, fragment",
    [
        (bytes(range(256)) * 4, "not a UTF-8 text file"),
        (b"output:\n  crf: 3\x00\x00\x00", "binary file"),
        (b"[" * 100, "nested deeper"),
        (b"base: &b {crf: 3}\noutput:\n  <<: *b\n", "anchors"),
        (b"# padding\n" * 120_000, "larger than"),
    ],
)
def test_odd_config_files_are_one_line(tmp_path, capsys, style_image, content, fragment):
    f = tmp_path / "odd.yaml"
    f.write_bytes(content)
    with pytest.raises(ConfigError, match=fragment):
        load_pipeline(f)
    rc = main([str(style_image), str(style_image), str(tmp_path / "o.png"), "--pipeline", str(f)])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and err[0].startswith("rest-video: error:") and fragment in err[0]


@pytest.mark.parametrize(
    "override, fragment",
    [
        ("runtime.threads=99999", "runtime.threads must be in 0..256"),
        ("runtime.threads=-1", "runtime.threads"),
        ("runtime.queue_size=100000", "runtime.queue_size must be in 1..64"),
        ("style.max_side=1000000", "style.max_side"),
        ("live.fit_side=0", "live.fit_side"),
        ("live.size=20000x10", "live.size"),
        ("live.fps=nan", "live.fps: expected a finite number"),
        ("live.fps=.inf", "live.fps: expected a finite number"),
        ("style.strength=nan", "style.strength: expected a finite number"),
        ("temporal.smoothing=-.inf", "temporal.smoothing"),
        ("style.strength=[&a [1, 1], *a]", "style.strength: expected a number"),
    ],
)
def test_numeric_keys_are_bounded_and_finite(override, fragment):
    with pytest.raises(ConfigError, match=re.escape(fragment)):
        load_pipeline(None, [override])


def test_threads_out_of_range_is_one_line_about_the_key_before_the_model_loads(tmp_path, capsys, style_image):
    rc = main(
        [
            str(style_image),
            str(style_image),
            str(tmp_path / "o.png"),
            "--checkpoint",
            str(tmp_path / "none"),
            "--set",
            "runtime.threads=99999",
        ]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and "runtime.threads" in err[0] and "weights" not in err[0]
