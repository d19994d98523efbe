"""Hotkeys, views and the overlay without opening a window."""

import numpy as np
import pytest

from rest_video.core.errors import DeviceError
from rest_video.live import preview
from rest_video.live.preview import Controls, View, compose, draw_overlay


def test_digit_keys_switch_style_within_range():
    c = Controls(n_styles=3)
    assert c.handle_key(ord("3")) == "style" and c.style_index == 2
    assert c.handle_key(ord("3")) is None             # already there
    assert c.handle_key(ord("7")) is None and c.style_index == 2   # no 7th style


def test_plus_minus_change_strength_and_clamp():
    c = Controls(strength=0.95)
    assert c.handle_key(ord("+")) == "strength" and c.strength == 1.0
    assert c.handle_key(ord("+")) is None and c.strength == 1.0
    for _ in range(12):
        c.handle_key(ord("-"))
    assert c.strength == 0.0
    assert c.handle_key(ord("=")) == "strength" and c.strength == pytest.approx(0.1)


def test_v_cycles_views_and_s_q_esc():
    c = Controls()
    views = []
    for _ in range(3):
        assert c.handle_key(ord("v")) == "view"
        views.append(c.view)
    assert views == [View.SIDE_BY_SIDE, View.ORIGINAL, View.STYLIZED]
    assert c.handle_key(ord("s")) == "snapshot"
    assert c.handle_key(ord("q")) == "quit" and c.handle_key(27) == "quit"
    assert c.handle_key(-1) is None and c.handle_key(ord("x")) is None
    assert c.handle_key(0x100000 | ord("q")) == "quit"     # modifier bits from waitKeyEx


def test_compose_and_overlay():
    a = np.zeros((10, 20, 3), np.uint8)
    b = np.full((10, 20, 3), 200, np.uint8)
    assert compose(a, b, View.STYLIZED) is b and compose(a, b, View.ORIGINAL) is a
    side = compose(a, b, View.SIDE_BY_SIDE)
    assert side.shape == (10, 40, 3) and side[0, 39, 0] == 200
    big = np.full((120, 200, 3), 100, np.uint8)
    out = draw_overlay(big, ["lut | 30.0 fps"])
    assert out.shape == big.shape and not np.array_equal(out, big) and big[0, 0, 0] == 100


def test_no_gui_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(preview, "gui_problem", lambda: "there is no display")
    with pytest.raises(DeviceError, match="--no-preview"):
        preview.PreviewWindow()
