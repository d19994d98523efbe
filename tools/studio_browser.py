"""A real studio server in a thread and the system's Chromium driven by Playwright (never downloaded).

Shared by the studio's end-to-end test (tests/studio/test_browser.py) and tools/studio_bench.py."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from contextlib import contextmanager
from pathlib import Path

CHROMIUM_PATHS = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")


def find_chromium() -> str | None:
    for p in CHROMIUM_PATHS:
        if Path(p).is_file():
            return p
    return shutil.which("chromium") or shutil.which("chromium-browser")


def why_no_browser() -> str | None:
    """None when a browser test can run here, else the reason it cannot."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (pip install -e '.[dev]')"
    if find_chromium() is None:
        return "no Chromium here (Debian: apt-get install chromium); the test never downloads a browser"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve(settings):
    """The studio on 127.0.0.1 (a free port) in a thread; yields (base url, app)."""
    import uvicorn

    from rest_video.cli.studio import apply_studio_runtime
    from rest_video.studio.app import create_app

    apply_studio_runtime()  # as the command does
    app = create_app(settings)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the studio server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", app
    finally:
        server.should_exit = True
        thread.join(timeout=15)


@contextmanager
def chromium(downloads: Path | None = None):
    """A headless Chromium page (1280 x 800) from the system's executable."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=find_chromium(), headless=True,
                                    args=["--use-fake-ui-for-media-stream",
                                          "--use-fake-device-for-media-stream"])
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 800}, accept_downloads=True)
            yield context
        finally:
            browser.close()


# pixels of an <img> as the browser decoded them: the mean of a 32 x 32 copy, and a checksum
PIXELS_JS = """(sel) => {
  const img = document.querySelector(sel);
  if (!img || !img.complete || !img.naturalWidth) return null;
  const c = document.createElement("canvas"); c.width = 32; c.height = 32;
  const g = c.getContext("2d"); g.drawImage(img, 0, 0, 32, 32);
  const d = g.getImageData(0, 0, 32, 32).data;
  let sum = 0, chk = 0;
  for (let i = 0; i < d.length; i++) { sum += d[i]; chk = (chk * 31 + d[i]) % 1000000007; }
  return [sum / d.length, chk, img.naturalWidth, img.naturalHeight];
}"""


def pixels(page, selector: str):
    return page.evaluate(PIXELS_JS, selector)


def wait_pixels_change(page, selector: str, before, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = pixels(page, selector)
        if now is not None and (before is None or now[1] != before[1]):
            return now
        page.wait_for_timeout(50)
    raise AssertionError(f"{selector} did not change in {timeout} s")
