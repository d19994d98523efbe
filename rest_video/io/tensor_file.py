"""Tensors to a safetensors file, whole or not at all, whatever memory the tensors share.

safetensors refuses tensors that share memory (a region whose statistics are the whole style's
are the same tensors). :func:`save_tensors` writes each such tensor as its own copy, so any dict
of tensors can be written and read back with the same values.
"""

from __future__ import annotations

from pathlib import Path

from torch import Tensor

from rest_video.core.atomic import atomic_output


def unshared(tensors: dict[str, Tensor]) -> dict[str, Tensor]:
    """Contiguous CPU tensors with the same values, no two of them sharing memory.

    >>> import torch
    >>> a = torch.ones(2)
    >>> out = unshared({"x": a, "y": a})
    >>> out["x"].data_ptr() != out["y"].data_ptr() and torch.equal(out["x"], out["y"])
    True
    """
    seen: set[int] = set()
    out: dict[str, Tensor] = {}
    for key, value in tensors.items():
        t = value.detach().cpu().contiguous()
        storage = t.untyped_storage().data_ptr()
        if storage in seen:
            t = t.clone()
        seen.add(t.untyped_storage().data_ptr())
        out[key] = t
    return out


def save_tensors(
    tensors: dict[str, Tensor], path: str | Path, metadata: dict[str, str] | None = None
) -> None:
    """Write ``tensors`` to ``path`` (safetensors, atomic rename), copying any that share memory."""
    from safetensors.torch import save_file

    with atomic_output(path) as tmp:
        save_file(unshared(tensors), str(tmp), metadata=metadata)
