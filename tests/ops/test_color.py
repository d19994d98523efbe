"""rest_video.ops.color: the one rounding to uint8 and the one resize."""

import numpy as np

from rest_video.ops.color import downscale, fit_size, resize, to_uint8


def test_to_uint8_rounds_half_to_even_and_saturates():
    x = np.array([[[0.5, 1.5, 2.5], [-3.0, 254.6, 300.0]]], np.float32)
    assert to_uint8(x).tolist() == [[[0, 2, 2], [0, 255, 255]]]
    assert to_uint8(np.full((1, 1, 3), 0.5, np.float32), 255.0).tolist() == [[[128, 128, 128]]]
    dst = np.empty((1, 2, 3), np.uint8)
    assert to_uint8(x, dst=dst) is dst


def test_to_uint8_is_the_same_on_contiguous_and_strided_frames():
    # contiguous frames take a one-channel view; strided ones OpenCV's per-channel scalar path
    rng = np.random.default_rng(0)
    for scale in (1.0, 255.0):
        x = (rng.random((37, 53, 6), dtype=np.float32) * 300.0 - 20.0) / scale
        x[0, :4, 0] = np.array([0.5, 1.5, 2.5, 254.5], np.float32) / scale
        strided = x[:, :, :3]
        assert not strided.flags.c_contiguous
        assert np.array_equal(to_uint8(np.ascontiguousarray(strided), scale), to_uint8(strided, scale))


def test_resize_and_downscale():
    img = np.zeros((40, 80, 3), np.uint8)
    assert resize(img, (80, 40)) is img and resize(img, (20, 10)).shape == (10, 20, 3)
    assert resize(img, (160, 80)).shape == (80, 160, 3)
    assert downscale(img, 100) is img and downscale(img, 20).shape == (10, 20, 3)
    assert fit_size(3, 1000, 0.001) == (1, 1)
