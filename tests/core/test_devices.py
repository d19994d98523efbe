"""rest_video.core.devices: device / dtype choice, and runtime settings applied once, never by a
constructor."""

import pytest
import torch

from rest_video import Stylizer, load_pipeline
from rest_video.core.devices import apply_runtime, resolve_device, resolve_dtype
from rest_video.core.errors import DeviceError


def test_resolve_device_and_dtype():
    assert resolve_device("cpu").type == "cpu"
    assert resolve_dtype("auto", torch.device("cpu")) == torch.float32
    with pytest.raises(DeviceError):
        resolve_device("tpu")


def test_constructing_a_stylizer_sets_no_process_globals_apply_runtime_does(random_weights):
    before = torch.get_num_threads()
    want = 1 if before != 1 else 2
    cfg = load_pipeline(None, {"model.checkpoint": str(random_weights), "runtime.device": "cpu",
                               "runtime.threads": want})
    try:
        Stylizer(cfg)
        assert torch.get_num_threads() == before
        apply_runtime(cfg.runtime)
        assert torch.get_num_threads() == want and torch.backends.cudnn.benchmark
    finally:
        torch.set_num_threads(before)


def test_keep_freed_memory_applies_on_glibc_linux():
    import platform
    import sys

    from rest_video.core.devices import keep_freed_memory

    applied = keep_freed_memory()
    if sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc":
        assert applied is True
    else:
        assert applied is False
