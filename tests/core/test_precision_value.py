"""One Precision value: its dtype, its input format, its names."""

import pytest
import torch

from rest_video.core.devices import resolve_dtype
from rest_video.core.errors import ConfigError
from rest_video.core.precision import Precision


def test_each_precision_carries_its_dtype_and_input_format():
    assert [(p.dtype, p.takes_uint8) for p in Precision] == [
        (torch.float32, False), (torch.float16, False), (torch.bfloat16, False), (torch.float32, True)]
    # int8 computes around the fp32 form: its float dtype is fp32, and its frames enter as uint8
    assert resolve_dtype("int8", torch.device("cpu")) == Precision.INT8.dtype == torch.float32


def test_a_precision_is_its_name():
    assert Precision.INT8 == "int8" and f"{Precision.BF16}" == "bf16" and str(Precision.FP16) == "fp16"
    assert Precision.of("bf16") is Precision.BF16 and Precision.of(Precision.INT8) is Precision.INT8
    assert Precision.of(torch.float16) is Precision.FP16


def test_unknown_precisions_are_config_errors():
    with pytest.raises(ConfigError, match="unknown precision 'int4'"):
        Precision.of("int4")
    with pytest.raises(ConfigError, match="no precision computes in torch.float64"):
        Precision.of(torch.float64)
