"""Weights files are checked before they are trusted: the declared architecture is bounded, tensor
names and shapes are compared with it before anything is allocated, and values must be finite."""

import json
import time

import pytest
import torch
from media import make_frame
from safetensors.torch import save_file

from rest_video.cli.main import main
from rest_video.core.errors import WeightsError
from rest_video.io.image import write_image
from rest_video.models import REST, load_checkpoint


def _state(model: REST) -> dict:
    return {k: v.contiguous() for k, v in model.state_dict().items()}


def _write(path, sd: dict, arch: dict):
    if path.suffix == ".pt":
        torch.save({"arch": arch, "model": sd, "step": 1}, path)
    else:
        save_file(sd, str(path), metadata={"format": "rest-video/1", "config": json.dumps(arch)})
    return path


ARCH = {"layers": 5, "width": 16, "stylized": [3, 4, 5], "variant": "rest"}


@pytest.mark.parametrize("suffix", [".safetensors", ".pt"])
@pytest.mark.parametrize(
    "arch, fragment",
    [
        (
            {**ARCH, "width": 20000},
            "width must be in 1..256, got 20000",
        ),  # was a 14 GB allocation, then a traceback
        ({**ARCH, "layers": 100000, "stylized": [100000]}, "layers must be in 2..16"),
        ({**ARCH, "width": 200}, "has shape [16, 3, 3, 3], the declared architecture needs [200, 3, 3, 3]"),
        ({**ARCH, "width": "16"}, "must be integers"),
        ({**ARCH, "extra": 1}, "the architecture has keys"),
        ([1, 2], "not a mapping"),
    ],
)
def test_a_declared_architecture_is_checked_before_anything_is_built(tmp_path, suffix, arch, fragment):
    path = _write(tmp_path / f"w{suffix}", _state(REST()), arch)
    t0 = time.perf_counter()
    with pytest.raises(WeightsError) as info:
        load_checkpoint(path)
    assert fragment in str(info.value) and str(path) in str(info.value)
    assert time.perf_counter() - t0 < 2.0


def test_missing_and_extra_tensors_are_refused(tmp_path):
    sd = _state(REST())
    del sd["decoder.blocks.0.conv.bias"]
    with pytest.raises(WeightsError, match="missing decoder.blocks.0.conv.bias"):
        load_checkpoint(_write(tmp_path / "a.safetensors", sd, ARCH))
    sd = {**_state(REST()), "extra.weight": torch.zeros(3)}
    with pytest.raises(WeightsError, match="unexpected extra.weight"):
        load_checkpoint(_write(tmp_path / "b.safetensors", sd, ARCH))


@pytest.mark.parametrize("where", ["all", "one"])
def test_non_finite_weights_are_refused(tmp_path, capsys, style_image, where):
    sd = _state(REST())
    if where == "all":                                  # was: exit 0 and a black video
        sd = {k: torch.full_like(v, float("nan")) if v.is_floating_point() else v for k, v in sd.items()}
    else:
        sd["encoder.blocks.2.bn.running_var"][3] = float("inf")
    path = _write(tmp_path / "nan.safetensors", sd, ARCH)
    with pytest.raises(WeightsError, match="non-finite"):
        load_checkpoint(path)
    write_image(tmp_path / "in.png", make_frame(32, 24, 0))
    out = tmp_path / "out.png"
    rc = main([str(tmp_path / "in.png"), str(style_image), str(out), "--checkpoint", str(path), "-q"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and "non-finite" in err[0] and not out.exists()


def test_good_weights_still_load_from_both_formats(tmp_path, random_weights):
    torch.manual_seed(1)
    model = REST()
    for suffix in (".safetensors", ".pt"):
        back = load_checkpoint(_write(tmp_path / f"w{suffix}", _state(model), ARCH))
        for (k, a), b in zip(model.state_dict().items(), back.state_dict().values(), strict=False):
            assert torch.equal(a, b), k
    assert load_checkpoint(random_weights).cfg.width == 16
