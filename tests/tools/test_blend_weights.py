"""tools/blend_weights.py: a blend of two sets of weights."""

import torch

from rest_video.models import load_checkpoint, save_weights
from rest_video.models.rest import REST
from tools.blend_weights import main


def test_blend_is_the_lerp_of_every_tensor_and_its_ends_are_the_inputs(tmp_path, random_weights):
    torch.manual_seed(1)
    other = tmp_path / "b.safetensors"
    save_weights(REST(), other)
    a, b = load_checkpoint(random_weights).state_dict(), load_checkpoint(other).state_dict()
    for t in (0.0, 0.25, 1.0):
        out = tmp_path / f"t{t}.safetensors"
        assert main([str(random_weights), str(other), "--t", str(t), "--out", str(out)]) == 0
        got = load_checkpoint(out).state_dict()
        for k in a:
            want = a[k] + t * (b[k] - a[k]) if a[k].is_floating_point() else b[k]
            torch.testing.assert_close(got[k], want)


def test_bad_t_or_overwriting_an_input_is_one_line(tmp_path, random_weights, capsys):
    before = random_weights.read_bytes()
    assert (
        main(
            [str(random_weights), str(random_weights), "--t", "1.5", "--out", str(tmp_path / "x.safetensors")]
        )
        == 2
    )
    assert main([str(random_weights), str(random_weights), "--t", "0.5", "--out", str(random_weights)]) == 2
    assert (
        main(
            [
                str(tmp_path / "none.safetensors"),
                str(random_weights),
                "--t",
                "0.5",
                "--out",
                str(tmp_path / "y.safetensors"),
            ]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert err.count("\n") == 3 and random_weights.read_bytes() == before
