"""Fixtures shared by the inference-form tests (fp32, bf16, int8)."""

from __future__ import annotations

import pytest
import torch
from media import make_frame

from rest_video.engine.tensors import frames_to_tensor
from rest_video.models import create_model


@pytest.fixture(scope="module")
def one_thread():
    """Tiny tensors: one thread (a loaded CI machine makes every multi-threaded op wait for a core)."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="module")
def model():
    """The shipped, trained weights (real statistics); a test module may define its own."""
    return create_model("rest_16x5")


@pytest.fixture(scope="module")
def style(model):
    """Statistics of a generated style with a strong red cast."""
    img = make_frame(48, 40, 9)
    img[..., 0] = img[..., 0] // 2 + 100
    return model.style_stats(frames_to_tensor(img[None], torch.device("cpu"), torch.float32))
