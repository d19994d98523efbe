"""rest_video.io.tensor_file: tensors that share memory are written and read back with their values."""

import torch
from safetensors.torch import load_file

from rest_video.io.tensor_file import save_tensors, unshared


def test_shared_and_viewed_tensors_round_trip(tmp_path):
    base = torch.arange(12.0)
    tensors = {"a": base, "same": base, "view": base[:4], "other": torch.ones(3)}
    save_tensors(tensors, tmp_path / "t.safetensors", metadata={"format": "x"})
    back = load_file(str(tmp_path / "t.safetensors"))
    assert set(back) == set(tensors) and all(torch.equal(back[k], v) for k, v in tensors.items())
    assert [p.name for p in tmp_path.iterdir()] == ["t.safetensors"]


def test_unshared_copies_only_what_is_shared():
    a, b = torch.ones(2), torch.zeros(2)
    out = unshared({"a": a, "b": b, "a2": a})
    assert out["a"].data_ptr() == a.data_ptr() and out["b"].data_ptr() == b.data_ptr()   # no needless copy
    assert out["a2"].data_ptr() != a.data_ptr() and torch.equal(out["a2"], a)
