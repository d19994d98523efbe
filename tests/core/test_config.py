from pathlib import Path

import pytest

import rest_video

from rest_video.cli.main import main
from rest_video.core.config import PipelineConfig, load_pipeline, load_train_config, to_dict
from rest_video.core.errors import ConfigError
from rest_video.resources import pipeline_names, pipelines_dir

ROOT = Path(__file__).resolve().parents[2]


def test_default_yaml_is_the_builtin_default():
    assert load_pipeline(ROOT / "pipelines" / "default.yaml") == PipelineConfig()


def test_every_shipped_pipeline_and_train_config_loads():
    names = pipeline_names()
    assert names == ["default", "fast-preview", "train"]
    assert load_train_config(pipelines_dir() / "train.yaml").steps > 0
    assert load_pipeline("default") == PipelineConfig()
    fast = load_pipeline("fast-preview")
    assert fast.output.preset == "veryfast" and fast != PipelineConfig()


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
