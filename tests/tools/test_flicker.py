"""The flicker lab script (tools/flicker.py) and the flicker metrics it reports, through a stand-in
network."""

import numpy as np
import pytest

from rest_video.core.config import PipelineConfig
from rest_video.metrics import flicker_ratio, still_change
from tools.flicker import measure_flicker


def clip(n=6, w=40, h=30):
    y, x = np.mgrid[0:h, 0:w]
    return [np.stack([(x * 5 + 3 * i) % 256, (y * 7) % 256, (x + y + i) % 256], -1).astype(np.uint8)
            for i in range(n)]


def test_flicker_ratio_definition():
    frames = clip()
    assert flicker_ratio(frames, frames) == pytest.approx(1.0)
    still = [frames[0]] * len(frames)
    assert flicker_ratio(frames, still) == 0.0
    noisy = [
        np.clip(f.astype(int) + (25 if i % 2 else -25), 0, 255).astype(np.uint8) for i, f in enumerate(frames)
    ]
    assert flicker_ratio(frames, noisy) > 3
    with pytest.raises(ValueError):
        flicker_ratio(frames[:1], frames[:1])
    assert 40 < still_change(still, noisy) <= 50      # input still, output jumps up to 50 levels
    assert still_change(frames, frames) == 0.0


class BreathingStylizer:
    """AdaIN-like: the output is the frame shifted to a fixed mean, using the (filtered) frame mean."""

    cfg = PipelineConfig()

    def resolve_strength(self, strength):
        return 1.0 if strength is None else strength

    def stylize(self, frame, style, strength=None, stats_filter=None):
        import torch

        m = torch.tensor([[[[float(frame.mean())]]]])
        stats = {3: (m, m)}
        if stats_filter is not None:
            stats = stats_filter(stats)
        return np.clip(frame.astype(np.float32) - stats[3][0].item() + 100, 0, 255).astype(np.uint8)


def test_smoothing_reduces_breathing():
    # a small patch blinks: per-frame statistics shift the whole picture ("breathing")
    frames = []
    for i, f in enumerate(clip(12)):
        f = f // 2 + 60
        f[:10, :10] = 255 if i % 2 else 0
        frames.append(f)
    raw = measure_flicker(BreathingStylizer(), None, frames, smoothing=0.0)
    smooth = measure_flicker(BreathingStylizer(), None, frames, smoothing=0.9)
    assert smooth.flicker < 0.7 * raw.flicker and smooth.still < 0.5 * raw.still
    assert 0 < smooth.ssim <= 1 and raw.frames == 12
    assert "| full | 0.9 | 0 | 0 | - | 12 |" in smooth.row(raw)


def test_motion_floor_counts_only_output_change_where_the_input_moved():
    from rest_video.metrics import flicker_ratio, motion_floor

    rng = np.random.default_rng(3)
    base = rng.integers(0, 256, (40, 40, 3), np.uint8)
    inputs, outputs = [], []
    for t in range(6):
        f = base.copy()
        f[:, :10] = 255 - f[:, :10] if t % 2 else f[:, :10]   # the left strip moves
        inputs.append(f)
        o = f.copy()
        o[:, 30:] = rng.integers(0, 256, (40, 10, 3), np.uint8)  # the output flickers on the right
        outputs.append(o)
    floor = motion_floor(inputs, outputs, moving=4, radius=2)
    assert 0 < floor < flicker_ratio(inputs, outputs)
    held = [o.copy() for o in outputs]
    for o in held:
        o[:, 30:] = outputs[0][:, 30:]                          # a perfect filter: right side held
    assert flicker_ratio(inputs, held) == pytest.approx(floor)
    assert (
        motion_floor(inputs, outputs, moving=4, radius=2, still=2) == 0.0
    )  # nothing spread next to the strip
    spread = [o.copy() for o in outputs]
    for t, o in enumerate(spread):
        o[:, 10:12] = 200 if t % 2 else 0                      # the output changes beside the moving strip
    halo = motion_floor(inputs, spread, moving=4, radius=2, still=2)
    assert 0 < halo < motion_floor(inputs, spread, moving=4, radius=2)
    assert halo == pytest.approx(2 * 40 * 3 * 200 / (40 * 40 * 3) / float(np.mean(
        [np.abs(inputs[t].astype(int) - inputs[t - 1]).mean() for t in range(1, 6)])))


def test_lag_share_counts_pixels_far_from_the_per_frame_output():
    from rest_video.metrics import lag_share

    raw = [np.full((10, 10, 3), 100, np.uint8)] * 2
    out = [r.copy() for r in raw]
    out[1][:5, :, 1] = 120                                     # half of one frame trails by 20 levels
    assert lag_share(out, raw) == pytest.approx(0.25)
    assert lag_share(raw, raw) == 0.0


def test_flicker_command_prints_a_row_per_setting(tmp_path, random_weights, style_image, capsys):
    import av

    from tools.flicker import main

    video = tmp_path / "c.mp4"
    with av.open(str(video), "w") as out:
        s = out.add_stream("libx264", rate=10)
        s.width, s.height, s.pix_fmt = 48, 32, "yuv420p"
        for f in clip(5, 48, 32):
            for pkt in s.encode(av.VideoFrame.from_ndarray(f, format="rgb24")):
                out.mux(pkt)
        for pkt in s.encode():
            out.mux(pkt)
    assert (
        main(
            [
                "--video",
                str(video),
                "--style",
                str(style_image),
                "--frames",
                "0",
                "--side",
                "0",
                "--smoothing",
                "0",
                "--chroma-sigma",
                "0",
                "1",
                "--pixel-smoothing",
                "0",
                "0.9",
                "--hold-limit",
                "6",
                "255",
                "--checkpoint",
                str(random_weights),
                "--set",
                "temporal.moving=40",
            ]
        )
        == 0
    )
    text = capsys.readouterr().out
    rows = [line for line in text.splitlines() if line.startswith("| full |")]
    # per chroma sigma: pixel smoothing 0 once (no bound to vary), 0.9 with each bound
    assert len(rows) == 6 and "| 0 | 0 | 0 | - | 5 |" in rows[0]
    assert "| 0 | 0.9 | 6 | 5 |" in rows[1] and "| 0 | 0.9 | - | 5 |" in rows[2] and "% |" in rows[1]
    assert "| 1 | 0 | - | 5 |" in rows[3] and "| 1 | 0.9 | 6 | 5 |" in rows[4]
    assert "> 40 levels" in text
    # the plain colour transfer for scale: its own rows, once (no statistics to smooth)
    assert main(["--video", str(video), "--style", str(style_image), "--frames", "0", "--side", "0",
                 "--smoothing", "0", "0.9", "--chroma-sigma", "0", "--pixel-smoothing", "0",
                 "--path", "reinhard", "--checkpoint", str(random_weights)]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| reinhard |")]
    assert len(rows) == 1 and float(rows[0].split("|")[7]) > 0


def test_psnr_to_the_per_frame_output():
    from rest_video.metrics import psnr as psnr_to
    from tools.flicker import FlickerResult

    frames = clip(3)
    assert psnr_to(frames, frames) == float("inf")
    low = [f // 2 for f in frames]                                     # <= 127: +1 never saturates
    assert psnr_to([f + 1 for f in low], low) == pytest.approx(10 * np.log10(255.0 ** 2))   # 48.13 dB
    assert psnr_to([f + 4 for f in low], low) == pytest.approx(10 * np.log10(255.0 ** 2 / 16))
    assert "| - |" in FlickerResult(0, "full", 3, 1.0, 1.0).row()         # identical streams print "-"
    assert "| 48.1 |" in FlickerResult(0, "full", 3, 1.0, 1.0, psnr=48.13).row()


def test_still_change_ycc_separates_brightness_from_colour():
    from rest_video.metrics import still_change_ycc

    frames = [np.full((8, 8, 3), 100, np.uint8)] * 4                  # a still input
    grey = [np.full((8, 8, 3), 100 + 3 * (i % 2), np.uint8) for i in range(4)]   # brightness flickers
    tint = [np.full((8, 8, 3), 100, np.uint8) for _ in range(4)]
    for i, f in enumerate(tint):
        f[..., 0] += 6 * (i % 2)                                       # red (colour) flickers
    y, cr, cb = still_change_ycc(frames, grey)
    assert y == pytest.approx(3.0, abs=0.01) and cr < 0.01 and cb < 0.01
    y, cr, cb = still_change_ycc(frames, tint)
    assert y == pytest.approx(6 * 0.299, abs=0.01)
    assert cr == pytest.approx((6 - 6 * 0.299) * 0.713, abs=0.01) and cb == pytest.approx(
        6 * 0.299 * 0.564, abs=0.01
    )


@pytest.mark.parametrize(
    "option", [["--hold-limit", "0"], ["--chroma-sigma", "-1"], ["--pixel-smoothing", "1"]]
)
def test_flicker_command_bad_setting_is_one_line_before_any_work(tmp_path, capsys, option):
    from tools.flicker import main

    # the video does not even exist: the settings are checked first
    assert main(["--video", str(tmp_path / "missing.mp4"), "--style", str(tmp_path / "s.jpg"), *option]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("tools/flicker.py: temporal.")
