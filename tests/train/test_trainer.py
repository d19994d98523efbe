import cv2
import numpy as np
import pytest
import torch

from rest_video.models import create_model
from rest_video.train.config import load_train_config
from rest_video.train.teacher import VGGTeacher
from rest_video.train.trainer import LOG_FIELDS, Trainer


@pytest.fixture
def photos(tmp_path):
    rng = np.random.default_rng(0)
    d = tmp_path / "photos"
    d.mkdir()
    for i in range(4):
        base = rng.integers(0, 255, size=(3,), dtype=np.uint8)
        img = np.clip(base + rng.normal(0, 40, size=(40, 48, 3)), 0, 255).astype(np.uint8)
        cv2.imwrite(str(d / f"p{i}.png"), img)
    return d


@pytest.fixture
def teacher():
    torch.manual_seed(0)
    return VGGTeacher("vgg16")


def _cfg(tmp_path, photos, **over):
    base = {"out_dir": str(tmp_path / "run"), "batch": 2, "data.folders": [str(photos)], "data.crop": 32,
            "data.min_side": 32, "steps": 3, "checkpoint_every": 1, "log_every": 1}
    base.update(over)
    tmp_path.mkdir(parents=True, exist_ok=True)
    cfg_file = tmp_path / "t.yaml"
    cfg_file.write_text("seed: 0\n")
    return load_train_config(cfg_file, base)


def test_one_step_lowers_the_loss(tmp_path, photos, teacher):
    tr = Trainer(_cfg(tmp_path, photos), teacher=teacher)
    g = np.random.default_rng(1)
    content, style = tr.data.batch(2, g), tr.data.batch(2, g)
    tr.model.train()
    before, _ = tr.losses(content, style)
    for _ in range(3):
        tr.train_step(content, style)
    after, parts = tr.losses(content, style)
    assert after.item() < before.item()
    assert parts.distill > 0 and parts.content > 0 and parts.style > 0


def test_checkpoint_resume_continues_exactly(tmp_path, photos, teacher):
    # uninterrupted: 3 steps
    full = Trainer(_cfg(tmp_path / "a", photos, steps=3), teacher=teacher)
    full.fit(progress=False)
    # interrupted after 2 steps, then resumed to 3
    Trainer(_cfg(tmp_path / "b", photos, steps=2), teacher=teacher).fit(progress=False)
    resumed = Trainer(_cfg(tmp_path / "b", photos, steps=3), teacher=teacher)
    resumed.fit(resume=True, progress=False)
    assert resumed.step == 3
    for (k, a), (_, b) in zip(
        full.model.state_dict().items(), resumed.model.state_dict().items(), strict=False
    ):
        torch.testing.assert_close(a, b, msg=k)
    log = (tmp_path / "b" / "run" / "loss.csv").read_text().splitlines()
    assert [r.split(",")[0] for r in log[1:]] == ["1", "2", "3"]
    # the exported weights load through the normal factory
    m = create_model("rest_16x5", checkpoint=tmp_path / "b" / "run" / "final.safetensors")
    st = m.style_stats(torch.rand(1, 3, 16, 16))
    assert m(torch.rand(1, 3, 15, 17), st).shape == (1, 3, 15, 17)


def test_no_distillation_ablation_skips_the_heads(tmp_path, photos, teacher):
    tr = Trainer(_cfg(tmp_path, photos, **{"loss.distill": 0}), teacher=teacher)
    parts = tr.train_step()
    assert parts.distill == 0.0


def test_export_writes_the_checkpoint_weights_mid_run(tmp_path, photos, teacher):
    from safetensors import safe_open

    from rest_video.core.errors import WeightsError
    from rest_video.train import export

    tr = Trainer(_cfg(tmp_path, photos, steps=2), teacher=teacher)
    tr.fit(progress=False)
    cfg_file = tmp_path / "t.yaml"
    out = export(cfg_file, [f"out_dir={tmp_path / 'run'}"], tmp_path / "w.safetensors")
    with safe_open(str(out), "pt") as f:
        assert f.metadata()["steps"] == "2"
    m = create_model("rest_16x5", checkpoint=out)
    for (k, a), (_, b) in zip(tr.model.state_dict().items(), m.state_dict().items(), strict=False):
        torch.testing.assert_close(a, b, msg=k)
    with pytest.raises(WeightsError, match="no checkpoint"):
        export(cfg_file, [f"out_dir={tmp_path / 'none'}"], tmp_path / "x.safetensors")


@pytest.mark.parametrize("sig", ["SIGTERM", "SIGHUP"])
def test_sigterm_stops_after_the_step_with_a_checkpoint(tmp_path, photos, teacher, sig):
    import os
    import signal

    from rest_video.core.signals import Interrupted, exit_status

    if not hasattr(signal, sig):
        pytest.skip(f"no {sig} here")
    signum = getattr(signal, sig)
    tr = Trainer(_cfg(tmp_path, photos, steps=50, checkpoint_every=100), teacher=teacher)
    real_step = tr.train_step

    def step_then_kill():
        parts = real_step()
        if tr.step == 2:
            os.kill(os.getpid(), signum)
        return parts

    tr.train_step = step_then_kill
    before = signal.getsignal(signum)
    with pytest.raises(Interrupted) as info:
        tr.fit(progress=False)
    assert exit_status(info.value) == 128 + signum          # what `rest-video train` exits with
    assert torch.load(tmp_path / "run" / "last.pt", weights_only=True)["step"] == 2
    assert signal.getsignal(signum) is before               # handlers given back


def test_colour_term_and_layer_weights_lower_on_a_tiny_batch(tmp_path, photos, teacher):
    tr = Trainer(_cfg(tmp_path, photos, **{"loss.color": 1.0, "loss.style_layers": [14, 2.5, 0.8, 0.5, 0.9],
                                          "data.style_augment": 1.0}), teacher=teacher)
    g = np.random.default_rng(2)
    content, style = tr.data.batch(2, g), tr.data.batch(2, g)
    tr.model.train()
    before, parts0 = tr.losses(content, style)
    assert parts0.color > 0
    tr.train_step(content, style)
    after, _ = tr.losses(content, style)
    assert after.item() < before.item()
    # the logged colour term reaches the CSV
    tr.fit(progress=False)
    header = (tmp_path / "run" / "loss.csv").read_text().splitlines()[0]
    assert "color" in header.split(",")


def test_weighted_style_loss_matches_the_paper_with_unit_weights():
    from rest_video.train.losses import style_loss

    torch.manual_seed(0)
    a = [torch.rand(2, c, 8, 8) for c in (4, 6)]
    b = [torch.rand(2, c, 8, 8) * 2 for c in (4, 6)]
    plain = style_loss(a, b)
    torch.testing.assert_close(style_loss(a, b, [1.0, 1.0]), plain)
    only_first = style_loss(a, b, [1.0, 0.0])
    assert 0 < only_first.item() < plain.item()
    torch.testing.assert_close(style_loss(a, b, [3.0, 0.0]), 3 * only_first)


def test_init_starts_from_given_weights(tmp_path, photos, teacher, random_weights):
    from rest_video.core.errors import ConfigError

    tr = Trainer(_cfg(tmp_path, photos, init=str(random_weights)), teacher=teacher)
    src = create_model("rest_16x5", checkpoint=random_weights)
    for (k, a), (_, b) in zip(tr.model.state_dict().items(), src.state_dict().items(), strict=False):
        torch.testing.assert_close(a, b, msg=k)
    with pytest.raises(ConfigError, match="init"):
        Trainer(_cfg(tmp_path, photos, init=str(random_weights), **{"arch.width": 8}), teacher=teacher)


def test_frozen_batchnorm_trains_with_the_running_statistics(tmp_path, photos, teacher):
    g = np.random.default_rng(1)
    runs = {}
    for bn in ("batch", "frozen"):
        tr = Trainer(_cfg(tmp_path / bn, photos, bn=bn), teacher=teacher)
        content, style = tr.data.batch(2, g), tr.data.batch(2, g)
        bn0 = tr.model.encoder.blocks[0].bn
        mean0, w0 = bn0.running_mean.clone(), bn0.weight.detach().clone()
        tr.train_step(content, style)
        runs[bn] = (torch.equal(bn0.running_mean, mean0), torch.equal(bn0.weight.detach(), w0))
    assert runs["batch"] == (False, False)  # the paper: batch statistics, running ones updated
    assert runs["frozen"] == (True, False)  # running statistics kept, the affine still learns


def test_bn_mode_is_checked(tmp_path, photos):
    from rest_video.core.errors import ConfigError

    with pytest.raises(ConfigError, match="bn"):
        _cfg(tmp_path, photos, bn="instance")


def test_identity_term_lowers_on_a_tiny_batch_and_is_the_strength_0_output(tmp_path, photos, teacher):
    from rest_video.train.losses import identity_loss

    tr = Trainer(_cfg(tmp_path, photos, **{"loss.identity": 1.0, "loss.content": 0.0, "loss.style": 0.0,
                                          "loss.distill": 0.0}), teacher=teacher)
    g = np.random.default_rng(3)
    content, style = tr.data.batch(2, g), tr.data.batch(2, g)
    tr.model.eval()
    with torch.no_grad():
        feats = tr.model.encoder(content)
        recon = tr.model.decoder({layer: feats[layer - 1] for layer in tr.model.cfg.stylized})
        # decoding the features as they are is what strength 0 gives (AdaIN with the content's own stats)
        at0 = tr.model(content, tr.model.batch_style_stats(style), strength=0.0)
    assert torch.allclose(recon, at0, atol=1e-4)
    tr.model.train()
    before, parts0 = tr.losses(content, style)
    assert parts0.identity > 0 and before.item() == pytest.approx(parts0.identity, rel=1e-5)
    tr.train_step(content, style)
    after, _ = tr.losses(content, style)
    assert after.item() < before.item()
    assert identity_loss(content, content).item() == 0.0


def test_old_loss_log_gains_the_new_columns_on_resume(tmp_path, photos, teacher):
    run = tmp_path / "run"
    run.mkdir(parents=True)
    (run / "loss.csv").write_text("step,loss,content,style,distill,seconds\n0,5.0,1.0,2.0,1.0,0.5\n")
    tr = Trainer(_cfg(tmp_path, photos, steps=1), teacher=teacher)
    tr.fit(progress=False)
    rows = (run / "loss.csv").read_text().splitlines()
    assert rows[0].split(",") == [
        "step",
        "loss",
        "content",
        "style",
        "distill",
        "color",
        "identity",
        "tone",
        "gram",
        "flicker",
        "seconds",
    ]
    assert rows[1].split(",") == ["0", "5.0", "1.0", "2.0", "1.0", "0", "0", "0", "0", "0", "0.5"]
    assert len(rows) == 3 and len(rows[2].split(",")) == 11


def test_colour_matched_content_target_compares_with_the_recoloured_content(tmp_path, photos, teacher):
    from rest_video.ops.palette import match_lab_mean_std
    from rest_video.train.losses import content_loss

    tr = Trainer(_cfg(tmp_path, photos, **{"loss.content_target": "color-matched"}), teacher=teacher)
    g = np.random.default_rng(4)
    content, style = tr.data.batch(2, g), tr.data.batch(2, g)
    tr.model.eval()
    _, parts = tr.losses(content, style)
    with torch.no_grad():
        out = tr.model.forward_train(content, style)[0]
        k = tr.cfg.loss.content_layer - 1
        want = content_loss(teacher(out)[k], teacher(match_lab_mean_std(content, style))[k]).item()
        paper = content_loss(teacher(out)[k], teacher(content)[k]).item()
    assert parts.content == pytest.approx(want, rel=1e-4) and want != pytest.approx(paper, rel=1e-3)
    tr.model.train()
    before, _ = tr.losses(content, style)
    tr.train_step(content, style)
    after, _ = tr.losses(content, style)
    assert after.item() < before.item()


def _only_term_lowers_in_one_step(tmp_path, photos, teacher, term: str, seed: int):
    """A trainer with every loss off but ``term`` (weight 1): on a tiny batch the total is that term,
    and one step lowers it. Returns the trainer and the batch."""
    tr = Trainer(_cfg(tmp_path, photos, **{f"loss.{term}": 1.0, "loss.content": 0.0, "loss.style": 0.0,
                                          "loss.distill": 0.0}), teacher=teacher)
    g = np.random.default_rng(seed)
    content, style = tr.data.batch(2, g), tr.data.batch(2, g)
    before, parts0 = tr.losses(content, style)
    assert getattr(parts0, term) > 0 and before.item() == pytest.approx(getattr(parts0, term), rel=1e-5)
    tr.train_step(content, style)
    after, _ = tr.losses(content, style)
    assert after.item() < before.item()
    return tr, content, style


def test_tone_term_lowers_on_a_tiny_batch_and_charges_broad_colour_not_fine_detail(tmp_path, photos, teacher):
    from rest_video.ops.palette import match_lab_mean_std
    from rest_video.train.losses import tone_loss

    tr, content, style = _only_term_lowers_in_one_step(tmp_path, photos, teacher, "tone", 5)
    target = match_lab_mean_std(content, style)
    assert tone_loss(target, target).item() == 0.0
    # a pixel-level checkerboard (+-4 levels) averages out in 8x8 blocks; a global shift does not
    checker = (torch.arange(target.shape[-1]) % 2 * 2 - 1).float() * (4 / 255)
    fine = (target + checker).clamp(0, 1)
    shifted = (target + 4 / 255).clamp(0, 1)
    assert tone_loss(fine, target).item() < 0.2 * tone_loss(shifted, target).item()


def test_gram_term_is_the_eval_gram_loss_and_lowers_on_a_tiny_batch(tmp_path, photos, teacher):
    from rest_video.metrics import gram_loss
    from rest_video.train.losses import gram_style_loss

    tr, content, style = _only_term_lowers_in_one_step(tmp_path, photos, teacher, "gram", 6)
    # per image it is the eval's Gram loss; the layer weights pick layers
    with torch.no_grad():
        fo, fs = teacher(content[:1]), teacher(style[:1])
    from rest_video.metrics import gram
    expected = gram_loss([gram(f)[0] for f in fo], [gram(f)[0] for f in fs])
    assert gram_style_loss(fo, fs).item() == pytest.approx(expected, rel=1e-4)
    only3 = gram_style_loss(fo, fs, [0, 0, 1, 0, 0]).item()
    assert only3 == pytest.approx(float(((gram(fo[2]) - gram(fs[2])) ** 2).sum()), rel=1e-4)
    assert gram_style_loss(fs, fs).item() == 0.0
    with pytest.raises(ValueError):
        gram_style_loss(fo, fs, [1, 1])


def test_flicker_term_is_a_pan_flicker_ratio_and_lowers_on_a_tiny_batch(tmp_path, photos, teacher):
    from rest_video.metrics import flicker_ratio
    from rest_video.train.losses import pan_flicker

    tr, content, style = _only_term_lowers_in_one_step(tmp_path, photos, teacher, "flicker", 7)
    # 1 for the content itself, 0 for a flat picture, 2 for doubled contrast
    x = content[:1]
    assert pan_flicker(x, x).item() == pytest.approx(1.0)
    assert pan_flicker(torch.full_like(x, 0.5), x).item() == 0.0
    assert pan_flicker(0.5 + 2 * (x - 0.5), x).item() == pytest.approx(2.0, rel=1e-5)
    # it is the clip flicker ratio of a one-pixel pan, both ways
    h, w = x.shape[-2] - 1, x.shape[-1] - 1
    def frames(t):
        img = (t[0].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
        return [img[i:i + h, j:j + w] for i, j in ((0, 0), (0, 1), (1, 1))]

    out = (x * torch.tensor([0.5, 1.0, 1.5]).view(1, 3, 1, 1)).clamp(0, 1)
    assert flicker_ratio(frames(x), frames(out)) == pytest.approx(pan_flicker(out, x).item(), rel=0.05)
    # at a coarser scale it is blind to detail finer than the scale: a pixel checkerboard averages out
    checker = ((torch.arange(16)[:, None] + torch.arange(16)[None]) % 2).float().expand(1, 3, 16, 16)
    flat = torch.full_like(checker, 0.5) + 0.01 * torch.linspace(0, 1, 16)
    assert pan_flicker(flat + 0.2 * checker, flat + 0.01 * checker, 2).item() == pytest.approx(1.0, rel=1e-4)
    assert pan_flicker(flat + 0.2 * checker, flat + 0.01 * checker).item() > 10


def test_moving_average_is_exported_resumed_and_loaded(tmp_path, photos, teacher):
    from safetensors import safe_open

    from rest_video.models import load_checkpoint
    from rest_video.train import export

    # uninterrupted: 3 steps with a moving average
    full = Trainer(_cfg(tmp_path / "a", photos, steps=3, ema=0.5), teacher=teacher)
    start = {k: v.clone() for k, v in full.model.state_dict().items()}
    final = full.fit(progress=False)
    # it is the average, not the trained weights: w_ema = lerp over the steps' weights
    name = "encoder.blocks.0.conv.weight" if "encoder.blocks.0.conv.weight" in start else next(
        k for k in start if k.endswith("weight") and start[k].dim() == 4)
    ema, raw = full.ema_model.state_dict()[name], full.model.state_dict()[name]
    assert not torch.equal(ema, raw) and not torch.equal(ema, start[name])
    m = create_model("rest_16x5", checkpoint=final)
    torch.testing.assert_close(m.state_dict()[name], ema)
    with safe_open(str(final), "pt") as f:
        assert "ema" in f.metadata()
    # a training checkpoint loads as its average, and export writes the same
    torch.testing.assert_close(load_checkpoint(tmp_path / "a" / "run" / "last.pt").state_dict()[name], ema)
    out = export(tmp_path / "a" / "t.yaml", [f"out_dir={tmp_path / 'a' / 'run'}"], tmp_path / "w.safetensors")
    torch.testing.assert_close(create_model("rest_16x5", checkpoint=out).state_dict()[name], ema)
    # interrupted after 2 steps, then resumed: the average goes on from where it was
    Trainer(_cfg(tmp_path / "b", photos, steps=2, ema=0.5), teacher=teacher).fit(progress=False)
    resumed = Trainer(_cfg(tmp_path / "b", photos, steps=3, ema=0.5), teacher=teacher)
    resumed.fit(resume=True, progress=False)
    torch.testing.assert_close(resumed.ema_model.state_dict()[name], ema)
    # a state saved without an average starts it from its weights
    plain = Trainer(_cfg(tmp_path / "c", photos, steps=2), teacher=teacher)
    plain.fit(progress=False)
    went_on = Trainer(_cfg(tmp_path / "c", photos, steps=2, ema=0.9), teacher=teacher)
    went_on.load()
    torch.testing.assert_close(went_on.ema_model.state_dict()[name], plain.model.state_dict()[name])


def test_gram_and_ema_settings_are_checked(tmp_path, photos):
    from rest_video.core.errors import ConfigError

    for bad in ({"ema": 1.0}, {"ema": -0.1}, {"loss.gram": -1}, {"loss.gram_layers": [1, 1]},
                {"loss.flicker": -1}, {"loss.flicker_scale": 0}):
        with pytest.raises(ConfigError):
            _cfg(tmp_path, photos, **bad)


def test_resume_takes_the_configs_learning_rate(tmp_path, photos, teacher):
    Trainer(_cfg(tmp_path, photos, steps=1), teacher=teacher).fit(progress=False)
    annealed = Trainer(_cfg(tmp_path, photos, steps=2, lr=3e-4), teacher=teacher)
    assert annealed.load()
    assert [g["lr"] for g in annealed.opt.param_groups] == [3e-4]


def test_plain_log_line_names_every_logged_term(tmp_path, photos, teacher, caplog):
    import logging

    with caplog.at_level(logging.INFO, logger="rest_video.train.trainer"):
        Trainer(_cfg(tmp_path, photos, steps=1), teacher=teacher).fit(progress=False)
    line = next(r.getMessage() for r in caplog.records if r.getMessage().startswith("step 1/1"))
    assert all(f" {name} " in line for name in LOG_FIELDS if name not in ("step", "seconds"))
