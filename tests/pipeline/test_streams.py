"""Everything but the picture passes through (ffmpeg's -map 0 -map_metadata 0): audio tracks with
their languages, titles and dispositions, subtitles where the container holds them, container
metadata; what cannot be kept is one note line."""

import pytest
from media import describe_streams, make_rich_clip, subtitle_cues

from rest_video.cli.main import main

FAST = ["--set", "temporal.smoothing=0", "--set", "temporal.pixel_smoothing=0", "-q", "--preset", "ultrafast"]


@pytest.fixture
def rich(tmp_path):
    return make_rich_clip(tmp_path / "film.mkv", tmp_path)


def _run(args, capsys):
    rc = main([str(a) for a in args])
    return rc, [line for line in capsys.readouterr().err.splitlines() if line.strip()]


def test_mkv_keeps_every_stream_tag_and_metadata_item(tmp_path, capsys, rich, style_image, random_weights):
    out = tmp_path / "out.mkv"
    rc, err = _run([rich, style_image, out, "--checkpoint", random_weights, *FAST], capsys)
    assert rc == 0 and err == []
    assert describe_streams(out) == describe_streams(rich)
    meta, streams = describe_streams(out)
    assert meta["title"] == "Holiday" and [s[2] for s in streams] == ["eng", "fra", "deu"]


def test_mp4_keeps_what_it_can_and_converts_subrip(tmp_path, capsys, rich, style_image, random_weights):
    out = tmp_path / "out.mp4"
    rc, err = _run([rich, style_image, out, "--checkpoint", random_weights, *FAST], capsys)
    assert rc == 0 and len(err) == 1 and "subtitle #3 (srt): converted to mov_text" in err[0], err
    meta, streams = describe_streams(out)
    assert meta == {"title": "Holiday", "creation_time": "2024-05-01T10:00:00.000000Z",
                    "location": "+48.8584+002.2945/"}
    assert [(s[0], s[1], s[2]) for s in streams] == [("audio", "aac", "eng"), ("audio", "aac", "fra"),
                                                   ("subtitle", "mov_text", "deu")]
    assert subtitle_cues(rich) == [(0.0, 0.3, "Hallo Welt"), (0.3, 0.15, "Tschuess")]
    assert subtitle_cues(out) == subtitle_cues(rich)


def test_avi_holds_no_subtitles_and_names_the_drop(tmp_path, capsys, rich, style_image, random_weights):
    out = tmp_path / "out.avi"
    rc, err = _run([rich, style_image, out, "--checkpoint", random_weights, *FAST], capsys)
    assert rc == 0 and any("subtitle #3 (srt); dropped" in line for line in err), err
    assert [s[0] for s in describe_streams(out)[1]] == ["audio", "audio"]


def test_webm_reencodes_all_audio_in_one_note(tmp_path, capsys, rich, style_image, random_weights):
    out = tmp_path / "out.webm"
    rc, err = _run([rich, style_image, out, "--checkpoint", random_weights, *FAST], capsys)
    assert rc == 0 and len(err) == 2, err   # one line for the audio, one for the subtitles
    assert "subtitle #3 (srt): converted to webvtt" in err[1], err
    meta, streams = describe_streams(out)
    assert [(s[1], s[2], s[3]) for s in streams] == [("opus", "eng", "Main"), ("opus", "fra", "Commentary"),
                                                   ("webvtt", "deu", "Deutsch")]
    assert subtitle_cues(out) == subtitle_cues(rich)


def test_mov_converts_subrip_and_keeps_every_language(tmp_path, capsys, rich, style_image, random_weights):
    out = tmp_path / "out.mov"
    rc, err = _run([rich, style_image, out, "--checkpoint", random_weights, *FAST], capsys)
    assert rc == 0 and any("subtitle #3 (srt): converted to mov_text" in line for line in err), err
    streams = describe_streams(out)[1]
    # QuickTime's language table holds German as ISO 639-2/B "ger" (the input says /T "deu")
    assert [(s[0], s[2]) for s in streams] == [("audio", "eng"), ("audio", "fra"), ("subtitle", "ger")]
    assert subtitle_cues(out) == subtitle_cues(rich)


def test_mov_names_a_language_quicktime_has_no_code_for(tmp_path, capsys, style_image, random_weights):
    clip = make_rich_clip(tmp_path / "maori.mkv", tmp_path, subtitles=False, languages=("eng", "mri"))
    out = tmp_path / "out.mov"
    rc, err = _run([clip, style_image, out, "--checkpoint", random_weights, *FAST], capsys)
    assert rc == 0 and err == [
        "rest-video: note: .mov has no code for the language of stream #2 (mri); written as unspecified"
    ], err
    assert [s[2] for s in describe_streams(out)[1]] == ["eng", None]
