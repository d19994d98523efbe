"""tools/before_after.py: README's before/after picture from two sets of weights."""

import cv2
import numpy as np

from tools.before_after import main


def test_sheet_has_a_row_per_pair_and_differs_between_weights(tmp_path, random_weights):
    rng = np.random.default_rng(0)
    content, style = tmp_path / "c.png", tmp_path / "s.png"
    cv2.imwrite(str(content), rng.integers(0, 255, (40, 60, 3), dtype=np.uint8))
    cv2.imwrite(
        str(style),
        np.clip(np.full((30, 30, 3), (40, 90, 200)) + rng.normal(0, 20, (30, 30, 3)), 0, 255).astype(
            np.uint8
        ),
    )
    out = tmp_path / "ba.png"
    args = ["--before", str(random_weights), "--pair", str(content), str(style), "--out", str(out)]
    assert main(args + ["--pair", str(content), str(style)]) == 0
    sheet = cv2.imread(str(out))
    assert sheet.shape[0] > 2 * 240 and sheet.shape[1] == 4 * 320 + 3 * 4
    tile = slice(30, 230)
    before = sheet[tile, 2 * 324:2 * 324 + 320].astype(int)
    after = sheet[tile, 3 * 324:3 * 324 + 320].astype(int)
    assert np.abs(before - after).mean() > 5  # random vs shipped weights: two different pictures


def test_missing_weights_is_one_line(tmp_path, capsys):
    assert main(["--before", str(tmp_path / "none.safetensors"), "--out", str(tmp_path / "x.png")]) == 2
    assert capsys.readouterr().err.count("\n") == 1
