"""rest_video.core.errors: the one way an exception becomes part of a one-line message."""

import pytest

from rest_video.core.errors import ConfigError, first_line
from rest_video.core.schema import parse_size


def test_first_line_of_an_exception():
    assert first_line(ValueError("bad thing\nTraceback ...")) == "bad thing"
    assert first_line(ValueError("\n  indented first\nsecond")) == "indented first"
    assert first_line(OSError()) == "OSError"                      # no message: the type's name
    assert first_line(ValueError("x" * 500)) == "x" * 200          # at most 200 characters by default
    assert first_line(ValueError("x" * 500), None) == "x" * 500


@pytest.mark.parametrize(
    "text, size",
    [("640x480", (640, 480)), ("1280X720", (1280, 720)), (" 64*48 ", (64, 48))],
)
def test_sizes_are_read_in_one_place(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize(
    "text, message",
    [
        ("64by48", "--size 64by48: expected WIDTHxHEIGHT"),
        ("8x8", "--size 8x8: width and height must be in 16..8192"),
        ("1x2x3", "expected WIDTHxHEIGHT"),
    ],
)
def test_a_bad_size_is_one_clear_line(text, message):
    with pytest.raises(ConfigError, match=message):
        parse_size(text, "--size", 16, 8192)
