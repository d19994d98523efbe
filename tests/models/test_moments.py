"""Feature moments gathered piece by piece (FrameMoments) sum to the whole frame's bits."""

from __future__ import annotations

import pytest
import torch

from rest_video.models import moments
from rest_video.models.moments import FrameMoments, OnesCache, frame_moments


def _features(n: int, C: int = 16, dtype=torch.float32) -> torch.Tensor:
    g = torch.Generator().manual_seed(n)
    return (torch.rand(n, C, generator=g) * 3 - 0.5).to(dtype)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize("n, block, piece", [
    (5917, 1 << 14, 5917),    # under one block: the whole frame is the tail
    (5917, 64, 64 * 7),       # many blocks, pieces of 7 blocks, a tail
    (64 * 64 * 3, 64, 64 * 5),  # fp16/bf16: 3 chunks of 64 blocks exactly, no tail
    (64 * 64 * 2 + 10, 64, 64 * 9),  # a chunk that is only the tail
])
def test_pieces_sum_to_the_whole_frame_bit_for_bit(monkeypatch, dtype, n, block, piece):
    monkeypatch.setattr(moments, "GRAM_BLOCK", block)
    R = _features(n, dtype=dtype)
    G, S = frame_moments(R, OnesCache())
    acc = FrameMoments(n, R.shape[1], dtype, R.device)
    ones = OnesCache()
    starts = list(range(0, n - n % block if n >= block else 0, piece)) or [0]
    for a in reversed(starts):  # any order
        b = n if a == starts[-1] else a + piece
        acc.add(a, R[a:b], ones)
    g, s = acc.total()
    assert torch.equal(g, G) and torch.equal(s, S)
    assert torch.allclose(S, R.double().sum(0), rtol=1e-5)


def test_missing_or_misaligned_pieces_are_refused(monkeypatch):
    monkeypatch.setattr(moments, "GRAM_BLOCK", 64)
    R = _features(640)
    acc = FrameMoments(640, 16, torch.float32, R.device)
    with pytest.raises(ValueError):
        acc.add(10, R[10:74], OnesCache())
    with pytest.raises(ValueError):
        acc.add(0, R[:70], OnesCache())  # a partial block that is not the frame's end
    acc.add(0, R[:320], OnesCache())
    with pytest.raises(ValueError):
        acc.total()
