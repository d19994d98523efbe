"""The preview window: hotkeys (pure, testable without a window), view composition, overlay.

Hotkeys: ``1``-``9`` style, ``+``/``-`` strength, ``v`` view (stylized -> side-by-side -> original),
``s`` snapshot (PNG), ``q``/Esc quit.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from enum import Enum

import cv2
import numpy as np

from rest_video.core.errors import DeviceError


class View(str, Enum):
    STYLIZED = "stylized"
    SIDE_BY_SIDE = "side-by-side"
    ORIGINAL = "original"


_VIEW_CYCLE = (View.STYLIZED, View.SIDE_BY_SIDE, View.ORIGINAL)


@dataclass
class Controls:
    """What the viewer controls: style index, strength, view. ``handle_key`` is the only mutator.

    >>> c = Controls(n_styles=3)
    >>> c.handle_key(ord("2")), c.style_index
    ('style', 1)
    >>> c.handle_key(ord("-")), round(c.strength, 2)
    ('strength', 0.9)
    """

    n_styles: int = 1
    strength: float = 1.0
    style_index: int = 0
    view: View = View.STYLIZED
    step: float = 0.1

    def handle_key(self, key: int) -> str | None:
        """Apply one key code (as from ``cv2.waitKey``); returns what happened or None.

        Returns one of ``"style"``, ``"strength"``, ``"view"``, ``"snapshot"``, ``"quit"``, None
        (no key, an unknown key, or a key that changed nothing, e.g. ``+`` at strength 1).
        """
        if key is None or key < 0:
            return None
        key &= 0xFF
        ch = chr(key)
        if key == 27 or ch in "qQ":
            return "quit"
        if ch in "123456789":
            i = int(ch) - 1
            if i < self.n_styles and i != self.style_index:
                self.style_index = i
                return "style"
            return None
        if ch in "+=-_":
            new = self.strength + (self.step if ch in "+=" else -self.step)
            new = round(min(1.0, max(0.0, new)), 6)
            if new == self.strength:
                return None
            self.strength = new
            return "strength"
        if ch in "vV":
            self.view = _VIEW_CYCLE[(_VIEW_CYCLE.index(self.view) + 1) % len(_VIEW_CYCLE)]
            return "view"
        if ch in "sS":
            return "snapshot"
        return None


def compose(original: np.ndarray, stylized: np.ndarray, view: View) -> np.ndarray:
    """The frame the viewer sees for ``view`` (side-by-side is twice as wide)."""
    if view == View.ORIGINAL:
        return original
    if view == View.SIDE_BY_SIDE:
        return np.concatenate([original, stylized], axis=1)
    return stylized


def draw_overlay(rgb: np.ndarray, lines: list[str]) -> np.ndarray:
    """A copy of ``rgb`` with ``lines`` of text top-left on a dark band."""
    out = np.array(rgb, copy=True)
    scale = max(0.4, min(out.shape[1], 1280) / 1600)
    height = int(22 * scale / 0.5)
    band = out[: height * len(lines) + 6, : int(out.shape[1] * 0.75)]
    band //= 2
    for i, text in enumerate(lines):
        y = height * (i + 1)
        cv2.putText(out, text, (6, y), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 1, cv2.LINE_AA)
    return out


def gui_problem() -> str | None:
    """Why no OpenCV window can open here (None: it should work)."""
    info = cv2.getBuildInformation()
    gui = ""
    for line in info.splitlines():
        if line.strip().startswith("GUI:"):
            gui = line.split(":", 1)[1].strip()
            break
    if gui.upper() in ("", "NONE"):
        return (
            "this OpenCV has no GUI support (opencv-python-headless; pip install opencv-python for a window)"
        )
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        return "there is no display (DISPLAY / WAYLAND_DISPLAY not set)"
    return None


class PreviewWindow:
    """An OpenCV highgui window showing RGB frames; ``show`` returns the pressed key (-1: none)."""

    def __init__(self, title: str = "rest-video") -> None:
        problem = gui_problem()
        if problem is not None:
            raise DeviceError(f"cannot open a preview window: {problem}; use --no-preview "
                              "(with --virtual-cam to send the frames elsewhere)")
        self.title = title
        try:
            cv2.namedWindow(title, cv2.WINDOW_NORMAL | cv2.WINDOW_KEEPRATIO)
        except cv2.error as e:
            raise DeviceError(f"cannot open a preview window ({str(e).strip().splitlines()[-1]}); "
                              "use --no-preview") from None
        self.open = True

    def show(self, rgb: np.ndarray) -> int:
        cv2.imshow(self.title, cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        key = cv2.waitKey(1)
        try:  # the window's close button ends the session like q
            if cv2.getWindowProperty(self.title, cv2.WND_PROP_VISIBLE) < 1:
                return 27
        except cv2.error:
            return 27
        return key

    def close(self) -> None:
        if self.open:
            self.open = False
            try:
                cv2.destroyWindow(self.title)
                cv2.waitKey(1)
            except cv2.error:
                pass
