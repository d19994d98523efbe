"""rest_video.resources: shipped pipelines and default styles, found inside the package."""

import pytest

from rest_video.core.config import load_pipeline
from rest_video.core.errors import ConfigError
from rest_video.resources import PipelineNotFound, resolve_pipeline, styles_dir


def test_default_styles_ship_in_the_package():
    from rest_video.cli.live import default_styles

    names = [p.name for p in default_styles()]
    assert names == sorted(names) and "evening-glow.jpg" in names and len(names) == 5
    assert (styles_dir() / "LICENSES.md").is_file()


def test_a_file_wins_over_a_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "fast-preview.yaml").write_text("output:\n  crf: 30\n")
    assert resolve_pipeline("fast-preview.yaml").resolve() == (tmp_path / "fast-preview.yaml").resolve()
    assert resolve_pipeline("fast-preview").name == "fast-preview.yaml"
    with pytest.raises(PipelineNotFound, match="not found"):
        resolve_pipeline("sub/none.yaml")
    with pytest.raises(ConfigError, match="not found"):  # the config's error, one line for the CLI
        load_pipeline("sub/none.yaml")
