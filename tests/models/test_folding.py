"""FoldedREST: the weights folded once, immutable, shared by every form of one precision."""

import dataclasses

import pytest
import torch

from rest_video.models import REST, RESTConfig
from rest_video.models.build import build_inference
from rest_video.models.folding import fold_rest


def test_the_folded_weights_are_immutable_and_describe_the_network():
    model = REST(RESTConfig(layers=3, width=8, stylized=(2, 3))).eval()
    folded = fold_rest(model, torch.device("cpu"), torch.float32)
    with pytest.raises(dataclasses.FrozenInstanceError):
        folded.enc = ()
    with pytest.raises(TypeError):
        folded.proj[2] = None
    with pytest.raises(dataclasses.FrozenInstanceError):
        folded.dec[0].relu = False
    assert len(folded.enc) == 3 and len(folded.dec) == 3 and set(folded.proj) == {2, 3}
    # a 3x3 conv per encoder and decoder block: the halo is their radii
    assert folded.halo == 6 and folded.stats_halo == 3
    assert build_inference(model, "cpu").macs_per_pixel() == folded.macs_per_pixel()


def test_one_precision_folds_in_its_dtype():
    model = REST(RESTConfig(layers=3, width=8, stylized=(2, 3))).eval()
    folded = fold_rest(model, torch.device("cpu"), torch.bfloat16)
    assert all(w.dtype == torch.bfloat16 for w, _ in folded.enc)
    assert all(P.dtype == torch.float64 for P, _ in folded.proj.values())  # statistics stay exact
