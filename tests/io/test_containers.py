"""rest_video.io.containers: the encoder follows the output container (.webm: VP9 + Opus, .mp4 /
.mkv / .mov: H.264), and a codec that does not fit is one line before the model loads."""

import av
import pytest
from media import audio_duration, make_clip, read_frames

from rest_video.cli.main import main
from rest_video.core.config import OutputCfg
from rest_video.core.errors import MediaError
from rest_video.io.containers import encoder_options, muxer_for, video_codec


@pytest.mark.parametrize("name, codec", [("o.webm", "libvpx-vp9"), ("o.mp4", "libx264"), ("o.mkv", "libx264"),
                                         ("o.MOV", "libx264")])
def test_auto_picks_the_encoder_from_the_container(name, codec):
    assert video_codec(name, OutputCfg()) == codec


@pytest.mark.parametrize("name, cfg, fragment", [
    ("o.webm", OutputCfg(codec="libx264"), "libx264 cannot go in a .webm file (use --codec libvpx-vp9"),
    ("o.mp4", OutputCfg(codec="aac"), "'aac' is not a video encoder"),
    ("o.mp4", OutputCfg(codec="no-such-codec"), "not a video encoder available"),
    ("o.mp4", OutputCfg(pix_fmt="pal8"), "libx264 cannot encode pixel format 'pal8'"),
    ("o.notaformat", OutputCfg(), "no video container is written as .notaformat"),
])
def test_a_codec_that_does_not_fit_is_refused(name, cfg, fragment):
    with pytest.raises(MediaError, match=fragment.replace("(", r"\(")):
        video_codec(name, cfg)


def test_explicit_codecs_that_fit_pass_and_get_their_options():
    assert video_codec("o.mkv", OutputCfg(codec="ffv1", pix_fmt="bgr0")) == "ffv1"
    assert video_codec("o.webm", OutputCfg(codec="libvpx-vp9")) == "libvpx-vp9"
    assert muxer_for("o.mkv") == "matroska" and muxer_for("o.webm") == "webm"
    assert encoder_options("libx264", OutputCfg(crf=20, preset="fast")) == {"crf": "20", "preset": "fast"}
    assert encoder_options("libvpx-vp9", OutputCfg(preset="ultrafast"))["cpu-used"] == "5"


def test_webm_with_the_defaults_is_vp9_and_opus(tmp_path, capsys, style_image, random_weights):
    src = make_clip(tmp_path / "in.mp4", n=6, audio=True)            # AAC audio, which WebM cannot hold
    out = tmp_path / "out.webm"
    rc = main([str(src), str(style_image), str(out), "--checkpoint", str(random_weights), "-q",
               "--preset", "ultrafast"])
    assert rc == 0, capsys.readouterr().err                           # was: "libx264 not supported by webm"
    with av.open(str(out)) as c:
        assert c.streams.video[0].codec_context.name == "vp9"
        assert c.streams.audio[0].codec_context.name == "opus"
    assert len(read_frames(out)[0]) == 6
    assert abs(audio_duration(out) - audio_duration(src)) < 0.05


def test_a_mismatch_is_refused_before_the_model_loads(tmp_path, capsys, style_image):
    src = make_clip(tmp_path / "in.mp4", n=2)
    out = tmp_path / "out.webm"
    rc = main(
        [str(src), str(style_image), str(out), "--codec", "libx264", "--checkpoint", str(tmp_path / "none")]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and "cannot go in a .webm file" in err[0]   # not "weights not found"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.mp4"]
