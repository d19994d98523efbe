import sys
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from media import make_clip, make_frame  # noqa: E402

from rest_video.models import REST, save_weights  # noqa: E402


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Every test gets its own style cache / teacher folder, never the user's."""
    monkeypatch.setenv("REST_VIDEO_CACHE", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture(scope="session")
def random_weights(tmp_path_factory) -> Path:
    """A REST checkpoint with random (but non-trivial) weights, BatchNorm statistics included."""
    torch.manual_seed(0)
    model = REST()
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 1.5)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.1, 0.1)
    path = tmp_path_factory.mktemp("weights") / "random.safetensors"
    save_weights(model, path)
    return path


@pytest.fixture(scope="session")
def style_image(tmp_path_factory) -> Path:
    import cv2

    img = make_frame(40, 30, 5)
    img[..., 0] = 200  # strongly red-tinted
    path = tmp_path_factory.mktemp("style") / "style.png"
    cv2.imwrite(str(path), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
    return path


@pytest.fixture
def clip_with_audio(tmp_path) -> Path:
    return make_clip(tmp_path / "in.mp4", audio=True)


@pytest.fixture
def rng():
    return np.random.default_rng(0)
