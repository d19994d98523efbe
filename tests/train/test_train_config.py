"""rest_video.train.config: the training schema, checked as the pipeline's is."""

import re
from pathlib import Path

import pytest

from rest_video.core.errors import ConfigError
from rest_video.resources import pipelines_dir
from rest_video.train.config import LossCfg, TrainConfig, load_train_config

ROOT = Path(__file__).resolve().parents[2]


def test_the_shipped_train_config_loads():
    assert load_train_config(pipelines_dir() / "train.yaml").steps > 0
    assert load_train_config("train") == load_train_config(pipelines_dir() / "train.yaml")


@pytest.mark.parametrize(
    "override, fragment",
    [
        ("arch.width=20000", "arch.width must be in 1..256"),
        ("arch.layers=1000", "arch.layers must be in 2..16"),
        ("lr=nan", "lr"),
        ("threads=99999", "threads must be in 0..256"),
        ("log_every=0", "log_every"),
    ],
)
def test_training_keys_are_bounded(override, fragment):
    with pytest.raises(ConfigError, match=re.escape(fragment)):
        load_train_config(ROOT / "pipelines" / "train.yaml", [override])



@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"steps": 0}, "steps must be >= 1, got 0"),
        ({"lr": -1.0}, "lr must be > 0, got -1.0"),
        ({"keep_every": -1}, "keep_every must be >= 0, got -1"),
        ({"ema": 1.0}, "ema must be in [0, 1), got 1.0"),
    ],
)
def test_a_config_built_by_hand_is_checked_too(kwargs, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        TrainConfig(**kwargs)


def test_layer_weights_are_five_and_not_negative():
    with pytest.raises(
        ConfigError, match=re.escape("loss.gram_layers must be 5 weights >= 0, got [1.0, 1.0]")
    ):
        LossCfg(gram_layers=(1.0, 1.0))
    with pytest.raises(ConfigError, match=re.escape("loss.style_layers must be 5 weights >= 0")):
        load_train_config(ROOT / "pipelines" / "train.yaml", ["loss.style_layers=[1, 1, 1, 1, -1]"])
