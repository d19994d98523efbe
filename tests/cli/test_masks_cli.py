"""`rest-video IN STYLE OUT --content-mask ... --style-mask ...`: masked images and videos, and the
one-line errors of masks that cannot be used."""

import cv2
import numpy as np
import pytest
from media import make_clip, read_frames

from rest_video.cli.main import main


def _run(args, capsys):
    rc = main([str(a) for a in args])
    return rc, capsys.readouterr().err.strip().splitlines()


def _mask(path, w, h, split_colour=(0, 0, 255)):
    m = np.zeros((h, w, 3), np.uint8)
    m[:, w // 2:] = split_colour  # BGR
    cv2.imwrite(str(path), m)
    return path


@pytest.fixture
def masks(tmp_path):
    # another size than the 64x48 clip and the 40x30 style: resized with nearest neighbour
    return _mask(tmp_path / "cmask.png", 32, 24), _mask(tmp_path / "smask.png", 80, 60)


def test_masked_video_with_one_mask_image_and_with_a_mask_video(
    tmp_path, capsys, style_image, random_weights, masks
):
    clip = make_clip(tmp_path / "in.mp4", n=4)
    common = ["--checkpoint", random_weights, "-q", "--style-mask", masks[1]]
    rc, err = _run([clip, style_image, tmp_path / "a.mp4", "--content-mask", masks[0], *common], capsys)
    assert rc == 0, err
    mvid = make_clip(tmp_path / "mask.mp4", w=32, h=24, n=4)
    rc, err = _run([clip, style_image, tmp_path / "b.mp4", "--content-mask", mvid, *common], capsys)
    assert rc == 0, err
    assert len(read_frames(tmp_path / "a.mp4")[0]) == len(read_frames(tmp_path / "b.mp4")[0]) == 4
    rc, err = _run([clip, style_image, tmp_path / "c.png", "--content-mask", mvid, *common], capsys)
    assert rc == 0, err


def test_masked_image(tmp_path, capsys, style_image, random_weights, masks):
    img = tmp_path / "in.png"
    cv2.imwrite(str(img), np.random.default_rng(0).integers(0, 255, (48, 64, 3), dtype=np.uint8))
    rc, err = _run(
        [
            img,
            style_image,
            tmp_path / "o.png",
            "--content-mask",
            masks[0],
            "--style-mask",
            masks[1],
            "--mask-feather",
            "0",
            "--protect",
            "red",
            "--checkpoint",
            random_weights,
            "-q",
        ],
        capsys,
    )
    assert rc == 0, err
    out = cv2.imread(str(tmp_path / "o.png"))
    assert np.array_equal(out[:, 40:], cv2.imread(str(img))[:, 40:])  # the protected half is the input


@pytest.mark.parametrize("case", ["missing-content-mask", "missing-style-mask", "mask-video-frames",
                                  "style-mask-alone", "protect-alone", "bad-protect", "wct", "lut", "live"])
def test_masks_that_cannot_be_used_are_one_line_and_exit_2(
    tmp_path, capsys, style_image, random_weights, masks, case
):
    clip = make_clip(tmp_path / "in.mp4", n=4)
    out = tmp_path / "out.mp4"
    base = [clip, style_image, out, "--checkpoint", random_weights, "-q"]
    args = {
        "missing-content-mask": [*base, "--content-mask", tmp_path / "nope.png"],
        "missing-style-mask": [*base, "--content-mask", masks[0], "--style-mask", tmp_path / "nope.png"],
        "mask-video-frames": [*base, "--content-mask", make_clip(tmp_path / "m.mp4", w=32, h=24, n=3)],
        "style-mask-alone": [*base, "--style-mask", masks[1]],
        "protect-alone": [*base, "--protect", "white"],
        "bad-protect": [*base, "--content-mask", masks[0], "--protect", "orange"],
        "wct": [*base, "--content-mask", masks[0], "--method", "wct"],
        "lut": ["lut", style_image, "--content", clip, "-o", tmp_path / "x.cube", "--content-mask", masks[0]],
        "live": ["--webcam", "--camera", clip, "--no-preview", "--content-mask", masks[0]],
    }[case]
    rc, err = _run(args, capsys)
    assert rc == 2 and len(err) == 1 and err[0].startswith("rest-video: error:"), err
    expect = {
        "missing-content-mask": "content mask not found",
        "missing-style-mask": "style mask not found",
        "mask-video-frames": "has 3 frames, the video has 4",
        "lut": "no regions",
        "live": "no regions",
        "wct": "AdaIN only",
        "protect-alone": "--protect needs --content-mask",
        "style-mask-alone": "--style-mask needs --content-mask",
        "bad-protect": "unknown mask colour",
    }[case]
    assert expect in err[0]
    assert not out.exists() and not (tmp_path / "x.cube").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".") or "tmp" in p.name]


def _labels_png(path, labels, colours):
    m = np.zeros((*labels.shape, 3), np.uint8)
    for lab, bgr in colours.items():
        m[labels == lab] = bgr
    cv2.imwrite(str(path), m)
    return path


@pytest.mark.parametrize("style_case", ["tiny-region", "one-label"])
def test_masked_styles_cache_writes_and_reads_regions_that_fall_back(
    tmp_path, capsys, style_image, random_weights, monkeypatch, style_case
):
    """A style region under masks.min_region, a label only in the content mask, and a style mask of one
    label (its statistics are the whole style's, once a traceback from the cache write): cache on,
    written then read, gives the --no-cache output."""
    monkeypatch.setenv("REST_VIDEO_CACHE", str(tmp_path / "cache"))
    img = tmp_path / "in.png"
    cv2.imwrite(str(img), np.random.default_rng(0).integers(0, 255, (48, 64, 3), dtype=np.uint8))
    content = np.zeros((48, 64), np.uint8)
    content[:, 32:] = 1
    content[:10, :10] = 2                                         # blue: only in the content mask
    style = np.zeros((30, 40), np.uint8)
    if style_case == "tiny-region":
        style[:, 20:] = 1
        style[:4, :4] = 2                                         # 16 pixels, under min_region (100 here)
    colours = {0: (0, 0, 0), 1: (0, 0, 255), 2: (255, 0, 0)}
    cmask, smask = (
        _labels_png(tmp_path / "cm.png", content, colours),
        _labels_png(tmp_path / "sm.png", style, colours),
    )
    common = [style_image, "--content-mask", cmask, "--style-mask", smask, "--checkpoint", random_weights,
              "--set", "masks.min_region=100", "-q"]
    outs = {}
    for name, extra in [("write", []), ("read", []), ("nocache", ["--no-cache"])]:
        rc, err = _run([img, *common[:1], tmp_path / f"{name}.png", *common[1:], *extra], capsys)
        assert rc == 0 and err == [], err
        outs[name] = cv2.imread(str(tmp_path / f"{name}.png"))
    assert len(list((tmp_path / "cache" / "styles").glob("*.safetensors"))) == 1
    assert np.array_equal(outs["write"], outs["nocache"]) and np.array_equal(outs["read"], outs["nocache"])


def test_an_unwritable_cache_costs_one_warning_line_not_the_run(tmp_path, capsys, style_image, random_weights,
                                                               monkeypatch, masks):
    blocker = tmp_path / "not-a-folder"
    blocker.write_bytes(b"")  # unwritable for root too: a file where a folder goes
    monkeypatch.setenv("REST_VIDEO_CACHE", str(blocker))
    img = tmp_path / "in.png"
    cv2.imwrite(str(img), np.random.default_rng(0).integers(0, 255, (48, 64, 3), dtype=np.uint8))
    for name, extra in [("plain", []), ("masked", ["--content-mask", masks[0], "--style-mask", masks[1]])]:
        rc, err = _run(
            [img, style_image, tmp_path / f"{name}.png", "--checkpoint", random_weights, "-q", *extra], capsys
        )
        assert rc == 0 and (tmp_path / f"{name}.png").is_file()
        assert len(err) == 1 and "not cached" in err[0] and "Traceback" not in err[0], err
