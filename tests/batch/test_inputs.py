"""Finding inputs, naming outputs, manifests: no worker runs here."""

from pathlib import Path

import pytest
from media import make_clip

from rest_video.batch.inputs import (
    check_jobs,
    count_frames,
    find_inputs,
    is_complete,
    jobs_from_inputs,
    jobs_from_manifest,
    output_name,
)
from rest_video.core.errors import ConfigError, MediaError


def test_folders_globs_and_files(tmp_path):
    (tmp_path / "a").mkdir()
    make_clip(tmp_path / "a" / "one.mp4", n=2)
    make_clip(tmp_path / "a" / "two.mkv", n=2)
    (tmp_path / "a" / "notes.txt").write_text("x")
    (tmp_path / "a" / "pic.png").write_bytes(b"")
    make_clip(tmp_path / "three.mov", n=2)
    found = find_inputs([str(tmp_path / "a"), str(tmp_path / "*.mov"), str(tmp_path / "a" / "one.mp4")])
    assert [p.name for p in found] == ["one.mp4", "pic.png", "two.mkv", "three.mov"]  # each once
    with pytest.raises(MediaError, match="input not found"):
        find_inputs([str(tmp_path / "missing.mp4")])
    with pytest.raises(MediaError, match="no files match"):
        find_inputs([str(tmp_path / "*.webm")])


def test_output_names_keep_the_container_where_they_can(tmp_path):
    style = Path("looks/dune.jpg")
    assert output_name(Path("x/clip.mov"), style) == "clip-dune.mov"
    assert output_name(Path("x/clip.avi"), style) == "clip-dune.avi"
    assert output_name(Path("x/clip.wmv"), style) == "clip-dune.mp4"  # no muxer of ours for .wmv
    assert output_name(Path("x/pic.jpg"), style) == "pic-dune.jpg"
    assert output_name(Path("x/clip.mov"), style, "{parent}_{stem}.mkv") == "x_clip.mkv"
    with pytest.raises(ConfigError, match="unknown or malformed"):
        output_name(Path("clip.mp4"), style, "{nope}.mp4")
    with pytest.raises(ConfigError, match="not a file name"):
        output_name(Path("clip.mp4"), style, "a/{stem}.mp4")


def test_two_inputs_writing_one_output_is_an_error(tmp_path):
    for d in ("a", "b"):
        (tmp_path / d).mkdir()
        make_clip(tmp_path / d / "clip.mp4", n=2)
    jobs = jobs_from_inputs([str(tmp_path / "a"), str(tmp_path / "b")], Path("s.jpg"), tmp_path / "out")
    with pytest.raises(ConfigError, match="would both write"):
        check_jobs(jobs)


def test_manifest_rows(tmp_path, style_image):
    make_clip(tmp_path / "c.mp4", n=2)
    (tmp_path / "m.csv").write_text(f"input,style,output,strength\nc.mp4,{style_image},x.mkv,0.5\nc.mp4,,,\n")
    jobs = jobs_from_manifest(tmp_path / "m.csv", Path("default.jpg"), tmp_path / "out")
    assert (
        jobs[0].output == tmp_path / "out" / "x.mkv"
        and jobs[0].style == style_image
        and jobs[0].strength == 0.5
    )
    assert (
        jobs[1].style == Path("default.jpg")
        and jobs[1].output.name == "c-default.mp4"
        and jobs[1].strength is None
    )
    (tmp_path / "bad.csv").write_text("file,look\nc.mp4,x\n")
    with pytest.raises(ConfigError, match="header must name"):
        jobs_from_manifest(tmp_path / "bad.csv", None, None)
    (tmp_path / "bad2.csv").write_text("input,style,output,strength\nc.mp4,s.jpg,o.mp4,2\n")
    with pytest.raises(ConfigError, match="strength"):
        jobs_from_manifest(tmp_path / "bad2.csv", None, None)


def test_complete_means_every_frame(tmp_path):
    full = make_clip(tmp_path / "full.mp4", n=9)
    assert count_frames(full) == 9 and is_complete(full, 9)
    assert not is_complete(full, 10) and not is_complete(tmp_path / "none.mp4", 9)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(full.read_bytes()[: full.stat().st_size // 2])
    assert not is_complete(cut, 9)
