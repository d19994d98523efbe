import pytest
import torch

from rest_video.core.errors import ConfigError, ShapeError, WeightsError
from rest_video.models import REST, RESTConfig, create_model, list_models, load_checkpoint, save_weights
from rest_video.ops.stats import covariance, mean_std


@pytest.fixture
def model():
    torch.manual_seed(0)
    return REST().eval()


@pytest.mark.parametrize("variant", ["rest", "aest"])
@pytest.mark.parametrize("hw", [(1, 1), (3, 5), (17, 23), (31, 47), (64, 65)])
def test_output_size_equals_input_size(variant, hw):
    torch.manual_seed(0)
    m = REST(RESTConfig(variant=variant)).eval()
    style = m.style_stats(torch.rand(1, 3, 20, 30))
    out = m(torch.rand(2, 3, *hw), style)
    assert out.shape == (2, 3, *hw)


def test_encoder_preserves_resolution_at_every_layer(model):
    feats = model.encoder(torch.rand(1, 3, 19, 27))
    assert len(feats) == 5
    assert all(f.shape == (1, 16, 19, 27) for f in feats)


def test_block_structure_is_the_papers():
    block = REST().encoder.blocks[0]
    kinds = [type(m).__name__ for m in block.children()]
    assert kinds == ["ReplicationPad2d", "Conv2d", "BatchNorm2d", "ReLU", "Conv2d"]
    assert block.conv.kernel_size == (3, 3) and block.conv.stride == (1, 1)
    assert block.proj.kernel_size == (1, 1)
    dec = REST().decoder
    assert all(not any(isinstance(m, torch.nn.BatchNorm2d) for m in b.modules()) for b in dec.blocks)
    # skips: decoder blocks after layers 5 and 4 take concatenated (2 x 16) channels
    assert [b.conv.in_channels for b in dec.blocks] == [16, 32, 32, 16, 16]
    assert dec.blocks[-1].conv.out_channels == 3


def test_adain_at_stylized_layers_matches_style_statistics(model):
    style = model.style_stats(torch.rand(1, 3, 24, 24) * 0.5 + 0.3)
    feats = model.encoder(torch.rand(1, 3, 32, 32))
    out = model.stylize_features(feats, style, 1.0)
    assert sorted(out) == [3, 4, 5]
    for layer, f in out.items():
        m, s = mean_std(f)
        torch.testing.assert_close(m, style.mean[layer], atol=1e-4, rtol=1e-4)
        torch.testing.assert_close(s, style.std[layer], atol=1e-3, rtol=1e-3)


def test_strength_zero_gives_the_content_reconstruction(model):
    x = torch.rand(1, 3, 21, 29)
    style = model.style_stats(torch.rand(1, 3, 16, 16))
    feats = model.encoder(x)
    recon = model.decoder({layer: feats[layer - 1] for layer in model.cfg.stylized})
    torch.testing.assert_close(model(x, style, strength=0.0), recon, atol=1e-5, rtol=1e-5)
    assert (model(x, style, strength=1.0) - recon).abs().max() > 1e-5


def test_strength_blends_between_content_and_style(model):
    x = torch.rand(1, 3, 16, 16)
    style = model.style_stats(torch.rand(1, 3, 16, 16))
    a, b, mid = (model(x, style, strength=s) for s in (0.0, 1.0, 0.5))
    assert (mid - a).abs().mean() < (b - a).abs().mean()


def test_wct_matches_style_covariance(model):
    style_img = torch.rand(1, 3, 24, 24)
    st = model.style_stats(style_img, with_cov=True)
    feats = model.encoder(torch.rand(1, 3, 40, 40))
    out = model.stylize_features(feats, st, 1.0, method="wct")
    for layer in (3, 4, 5):
        _, cov = covariance(out[layer])
        torch.testing.assert_close(cov.float(), st.cov[layer], atol=2e-3, rtol=5e-2)
    assert model(torch.rand(1, 3, 9, 11), st, method="wct").shape == (1, 3, 9, 11)


def test_wct_without_covariance_is_a_clear_error(model):
    st = model.style_stats(torch.rand(1, 3, 8, 8))
    with pytest.raises(ConfigError):
        model(torch.rand(1, 3, 8, 8), st, method="wct")


def test_config_from_configuration():
    m = REST(RESTConfig(layers=4, width=8, stylized=(2, 4)))
    assert len(m.encoder.blocks) == 4 and m.encoder.blocks[0].conv.out_channels == 8
    st = m.style_stats(torch.rand(1, 3, 8, 8))
    assert sorted(st.mean) == [2, 4]
    assert m(torch.rand(1, 3, 7, 9), st).shape == (1, 3, 7, 9)
    with pytest.raises(ConfigError):
        RESTConfig(layers=5, stylized=(3, 4))  # last layer must be stylized
    with pytest.raises(ShapeError):
        m(torch.rand(1, 4, 8, 8), st)


def test_registry_and_weights_round_trip(tmp_path):
    assert "rest_16x5" in list_models() and "aest_16x5" in list_models()
    with pytest.raises(ConfigError, match="unknown model"):
        create_model("nope")
    torch.manual_seed(1)
    m = REST().eval()
    path = tmp_path / "w.safetensors"
    save_weights(m, path)
    m2 = create_model("rest_16x5", checkpoint=path)
    x = torch.rand(1, 3, 12, 12)
    st = m.style_stats(torch.rand(1, 3, 12, 12))
    torch.testing.assert_close(m(x, st), m2(x, st))
    with pytest.raises(WeightsError):
        load_checkpoint(tmp_path / "missing.safetensors")
    (tmp_path / "bad.safetensors").write_bytes(b"not weights")
    with pytest.raises(WeightsError):
        load_checkpoint(tmp_path / "bad.safetensors")
