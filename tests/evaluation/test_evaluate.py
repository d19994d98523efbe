"""rest_video.evaluation and `rest-video eval`: baselines, runner, EVAL.md section."""

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from media import make_frame, smooth_image

from rest_video import evaluation as ev
from rest_video.cli.main import main
from rest_video.core.errors import ConfigError, MediaError, WeightsError
from rest_video.evaluation import run as run_module
from rest_video.train.teacher import VGGTeacher


@pytest.fixture(scope="module")
def teacher() -> VGGTeacher:
    """VGG-16 layout with random weights: Gram tests need no real teacher file."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        return VGGTeacher("vgg16")


def _write(path, rgb):
    cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    return path


@pytest.fixture
def pairs_file(tmp_path, rng):
    d = tmp_path / "data"
    d.mkdir()
    rows = ["content\tstyle"]
    for i in range(2):
        _write(d / f"c{i}.png", make_frame(40, 32, i))
        _write(d / f"s{i}.png", smooth_image(rng, 36, 44, 60, 220))
        rows.append(f"c{i}.png\ts{i}.png")
    f = d / "pairs.tsv"
    f.write_text("\n".join(rows) + "\n")
    return f


# ----------------------------------------------------------------------------- baselines
def _lab_stats(img_f32):
    lab = cv2.cvtColor(img_f32, cv2.COLOR_RGB2Lab).reshape(-1, 3)
    return lab.mean(0), lab.std(0)


def test_reinhard_matches_style_lab_mean_and_std(rng):
    content = smooth_image(rng, 40, 48, 70, 190).astype(np.float32) / 255
    style = smooth_image(rng, 30, 36, 90, 170).astype(np.float32) / 255
    style[..., 2] *= 0.7  # a tint
    out = ev.reinhard_transfer(content, style)
    assert out.shape == content.shape and out.dtype == np.float32
    om, os_ = _lab_stats(out)
    sm, ss = _lab_stats(style)
    np.testing.assert_allclose(om, sm, atol=0.5)
    np.testing.assert_allclose(os_, ss, rtol=0.05, atol=0.2)


def test_rgb_adain_matches_channel_means_and_stds(rng):
    content = smooth_image(rng, 40, 48, 40, 200).astype(np.float32) / 255
    style = smooth_image(rng, 30, 36, 80, 160).astype(np.float32) / 255
    out = ev.rgb_adain_transfer(content, style)
    np.testing.assert_allclose(out.mean((0, 1)), style.mean((0, 1)), atol=1e-4)
    np.testing.assert_allclose(out.std((0, 1)), style.std((0, 1)), atol=1e-4)


def test_histmatch_output_histogram_follows_the_style(rng):
    content = rng.integers(0, 256, size=(64, 64, 3)).astype(np.float32) / 255
    style = np.clip(rng.normal(0.3, 0.08, size=(50, 60, 3)), 0, 1).round(3).astype(np.float32)
    out = ev.histogram_match(content, style)
    bins = np.linspace(0, 1, 17)
    for k in range(3):
        ho = np.histogram(out[..., k], bins)[0] / out[..., k].size
        hs = np.histogram(style[..., k], bins)[0] / style[..., k].size
        assert np.abs(ho - hs).sum() < 0.05
    # monotone: brighter content stays brighter
    order = np.argsort(content[..., 0].ravel())
    assert np.all(np.diff(out[..., 0].ravel()[order]) >= -1e-6)


def test_baseline_methods_return_uint8_of_content_size():
    c, s = make_frame(40, 32, 0), make_frame(20, 24, 5)
    for m in ev.baseline_methods():
        out = m.fn(c, s)
        assert out.dtype == np.uint8 and out.shape == c.shape, m.name


# ----------------------------------------------------------------------------- runner
def test_read_pairs_resolves_paths_and_limits(pairs_file):
    pairs = ev.read_pairs(pairs_file)
    assert len(pairs) == 2 and pairs[0].content == pairs_file.parent / "c0.png"
    assert len(ev.read_pairs(pairs_file, limit=1)) == 1


def test_read_pairs_errors(tmp_path, pairs_file):
    bad = tmp_path / "bad.tsv"
    bad.write_text("a\tb\nc0.png\ts0.png\n")
    with pytest.raises(ConfigError, match="header"):
        ev.read_pairs(bad)
    bad.write_text("content\tstyle\nnope.png\ts0.png\n")
    with pytest.raises(MediaError, match=r"bad.tsv:2: content image not found"):
        ev.read_pairs(bad)


def test_parse_ablation():
    assert ev.parse_ablation("no-distill=runs/x/last.pt") == ("no-distill", Path("runs/x/last.pt"))
    for bad in ("nodistill", "=x.pt", "rest=x.pt"):
        with pytest.raises(ConfigError):
            ev.parse_ablation(bad)


def test_eval_writes_table_with_all_rows(tmp_path, pairs_file, random_weights, teacher):
    out = tmp_path / "EVAL.md"
    out.write_text("# Eval\n\nintro by someone else\n\n<!-- eval:dev-pairs:start -->\nold\n"
                   "<!-- eval:dev-pairs:end -->\n\n## other section\nkeep me\n")
    methods = ev.default_methods(random_weights, [("abl", random_weights)], optimized=False)
    rows = ev.evaluate_pairs(ev.read_pairs(pairs_file), methods, teacher)
    names = [r.method for r in rows]
    assert names == ["rest", "rest-untrained", "reinhard", "rgb-adain", "histmatch", "abl"]
    for r in rows:
        assert r.pairs == 2 and -1 <= r.ssim <= 1 and r.gram >= 0 and r.seconds > 0 and r.palette >= 0
    # the untrained network's noise is far from any photo's palette; a colour transfer is close
    by = {r.method: r for r in rows}
    assert by["rest-untrained"].palette > by["histmatch"].palette
    body = ev.render_section(rows, "rest-video eval --pairs p.tsv", pairs_file, "random vgg16")
    ev.write_section(out, body)
    ev.write_section(out, body)  # idempotent
    text = out.read_text()
    assert text.startswith("# Eval\n\nintro by someone else\n")
    assert text.endswith("## other section\nkeep me\n")
    assert "old" not in text and text.count("<!-- eval:dev-pairs:start -->") == 1
    for n in names:
        assert f"| {n} |" in text
    assert "rest-video eval --pairs p.tsv" in text and "CPUs" in text


def test_write_section_creates_file(tmp_path):
    out = tmp_path / "EVAL.md"
    ev.write_section(out, "hello")
    assert (
        out.read_text()
        == "# rest-video evaluation\n\n<!-- eval:dev-pairs:start -->\nhello\n<!-- eval:dev-pairs:end -->\n"
    )


def test_cli_end_to_end(tmp_path, pairs_file, random_weights, teacher, monkeypatch, capsys):
    monkeypatch.setattr(run_module, "load_teacher", lambda kind, path=None: teacher)
    out = tmp_path / "EVAL.md"
    rc = main(["eval", "--pairs", str(pairs_file), "--checkpoint", str(random_weights),
               "--ablation", f"aest={random_weights}", "--out", str(out), "--limit", "1", "-q",
               "--no-optimized"])
    assert rc == 0
    table = capsys.readouterr().out
    assert "| aest |" in table and "| histmatch |" in table
    text = out.read_text()
    assert f"rest-video eval --pairs {pairs_file} --checkpoint {random_weights}" in text
    assert "--limit 1" in text and "| rest-untrained |" in text and "palette" in text


def test_cli_contact_sheet(tmp_path, pairs_file, random_weights, teacher, monkeypatch):
    from rest_video.io.image import read_image

    monkeypatch.setattr(run_module, "load_teacher", lambda kind, path=None: teacher)
    sheet = tmp_path / "sheet.png"
    rc = main(["eval", "--pairs", str(pairs_file), "--checkpoint", str(random_weights), "--no-write",
               "--ablation", f"abl={random_weights}", "--sheet", str(sheet), "-q", "--no-optimized"])
    assert rc == 0
    img = read_image(sheet)
    # 2 pairs -> header + 2 rows; 6 columns: style, content, reinhard, rgb-adain, rest, abl
    assert img.shape[0] > 2 * 150 and img.shape[1] == 6 * 225 + 5 * 4
    assert ev.sheet_columns(["rest", "rest-untrained", "reinhard", "rgb-adain", "histmatch", "abl"]) == [
        "reinhard", "rgb-adain", "rest", "abl"]


def test_cli_missing_pairs_file_is_one_line_exit_2(tmp_path, capsys):
    rc = main(["eval", "--pairs", str(tmp_path / "missing.tsv")])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.count("\n") == 1 and "pairs file not found" in err and "Traceback" not in err


def test_missing_shipped_weights_say_what_to_do(tmp_path, monkeypatch):
    import rest_video.models.registry as reg

    monkeypatch.setattr(reg, "WEIGHTS_DIR", tmp_path)
    with pytest.raises(WeightsError, match="no shipped weights yet.*--checkpoint"):
        ev.load_rest_weights(None)


def test_cli_missing_ablation_checkpoint(tmp_path, pairs_file, random_weights, capsys):
    rc = main(["eval", "--pairs", str(pairs_file), "--checkpoint", str(random_weights),
               "--ablation", f"x={tmp_path / 'none.pt'}", "--out", str(tmp_path / "E.md")])
    err = capsys.readouterr().err
    assert rc == 2 and "weights not found" in err and err.count("\n") == 1
    assert not (tmp_path / "E.md").exists()
