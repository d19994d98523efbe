"""The compute precision of a run: one :class:`Precision` value, decided once, that carries the
dtype the network computes in and the form frames enter it in."""

from __future__ import annotations

from enum import Enum

import torch

from rest_video.core.errors import ConfigError


class Precision(str, Enum):
    """A precision of the inference form. It is a ``str`` equal to its name (``Precision.INT8 == "int8"``).

    * :attr:`dtype`: what the folded float form computes in (int8: fp32, the form its statistics,
      masks, bands and nearly flat frames run in, around oneDNN's int8 convs);
    * :attr:`takes_uint8`: frames enter as uint8 codes (int8), not as floats in [0, 1];
    * :attr:`input_dtype`: the dtype of those frames.
    """

    FP32 = "fp32"
    FP16 = "fp16"
    BF16 = "bf16"
    INT8 = "int8"

    def __str__(self) -> str:  # printed and formatted as its name, as the config writes it
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)

    @property
    def dtype(self) -> torch.dtype:
        return _DTYPES[self]

    @property
    def takes_uint8(self) -> bool:
        return self is Precision.INT8

    @property
    def input_dtype(self) -> torch.dtype:
        return torch.uint8 if self.takes_uint8 else self.dtype

    @classmethod
    def of(cls, value: Precision | str | torch.dtype) -> Precision:
        """``value`` as a Precision: a Precision, its name, or a float dtype (fp32, fp16, bf16)."""
        if isinstance(value, torch.dtype):
            for p in (cls.FP32, cls.FP16, cls.BF16):
                if p.dtype == value:
                    return p
            raise ConfigError(f"no precision computes in {value}")
        try:
            return cls(value)
        except ValueError:
            raise ConfigError(f"unknown precision {value!r} (fp32, fp16, bf16 or int8)") from None


_DTYPES = {Precision.FP32: torch.float32, Precision.FP16: torch.float16, Precision.BF16: torch.bfloat16,
           Precision.INT8: torch.float32}
