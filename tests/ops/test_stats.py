import torch

from rest_video.ops.stats import adain, adain_affine, mean_std


def test_adain_output_has_style_statistics():
    torch.manual_seed(0)
    c = torch.randn(2, 4, 9, 7) * 3 + 1
    s = torch.randn(1, 4, 5, 5) * 0.5 - 2
    sm, ss = mean_std(s)
    out = adain(c, sm, ss)
    om, os_ = mean_std(out)
    torch.testing.assert_close(om, sm.expand_as(om), atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(os_, ss.expand_as(os_), atol=1e-3, rtol=1e-3)


def test_adain_strength_zero_is_identity_and_affine_form_matches():
    torch.manual_seed(1)
    c = torch.randn(1, 3, 6, 6)
    sm, ss = torch.randn(1, 3, 1, 1), torch.rand(1, 3, 1, 1) + 0.1
    torch.testing.assert_close(adain(c, sm, ss, strength=0.0), c)
    cm, cs = mean_std(c)
    scale, shift = adain_affine(cm, cs, sm, ss, 0.3)
    expected = 0.3 * (ss * (c - cm) / cs + sm) + 0.7 * c
    torch.testing.assert_close(c * scale + shift, expected, atol=1e-5, rtol=1e-5)


def test_mean_std_of_constant_is_small():
    m, s = mean_std(torch.full((1, 2, 4, 4), 3.0))
    assert torch.allclose(m, torch.full_like(m, 3.0)) and float(s.max()) < 0.01
