"""End to end in a real headless browser (Debian's Chromium driven by Playwright): the issue's
"Done when" list, and the screenshots in README (docs/studio-*.jpg: written there with
``REST_VIDEO_SCREENSHOTS=docs``, else into the test's temporary folder, so a test run leaves the
checkout as it was).

Skips with its reason where no Chromium (or no Playwright) exists; installs nothing."""

from __future__ import annotations

from pathlib import Path

import av
import pytest

pytest.importorskip("starlette", reason="the [studio] extra is not installed")
from tools.studio_browser import chromium, pixels, serve, wait_pixels_change, why_no_browser

pytestmark = pytest.mark.skipif(why_no_browser() is not None, reason=str(why_no_browser()))

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "samples" / "street.mp4"


def shot(page, folder: Path, name: str, **kw) -> None:
    """A README screenshot: JPEG, small."""
    page.screenshot(path=str(folder / name), type="jpeg", quality=75, **kw)


def job_rows(page) -> list[dict]:
    return page.eval_on_selector_all("#jobs li", """els => els.map(e => ({id: e.dataset.job,
        status: e.dataset.status, bar: e.querySelector('progress').value,
        text: e.querySelector('.progress-text').textContent}))""")


def wait_job(page, status: str, index: int = 0, timeout: float = 60.0) -> dict:
    page.wait_for_function("([s, i]) => { const li = document.querySelectorAll('#jobs li')[i];"
                           " return li && li.dataset.status === s; }", arg=[status, index],
                           timeout=timeout * 1000)
    return job_rows(page)[index]


def test_studio_in_a_real_browser(tmp_path, studio_media):
    from rest_video.studio.app import StudioSettings

    bad = tmp_path / "holiday.mp4"
    bad.write_bytes(b"this is not a video at all\n" * 100)
    with serve(StudioSettings(camera=str(studio_media["clip"]), root=str(tmp_path / "run"))) as (url, app), \
            chromium() as context:
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url)
        page.wait_for_selector("body[data-ready='1']")
        assert page.locator("#gallery .thumb").count() == 5

        # upload a generated clip and a style photo; the preview appears
        page.set_input_files("#content-file", str(studio_media["clip"]))
        page.wait_for_function("window.__studio.previews >= 1", timeout=30_000)
        page.set_input_files("#style-file", str(studio_media["style"]))
        page.wait_for_function("document.querySelectorAll('#gallery .thumb').length === 6")
        first = wait_pixels_change(page, "#stylized", None)
        page.wait_for_function("window.__studio.lastQuality === 'full'", timeout=30_000)
        rested = pixels(page, "#stylized")
        assert pixels(page, "#original")[2:] == rested[2:] == [160, 96]

        # the strength slider changes the preview: LUT while it moves, the full network once it rests
        n = page.evaluate("window.__studio.previews")
        page.fill("#strength", "0.2")
        after = wait_pixels_change(page, "#stylized", rested)
        page.wait_for_function(f"window.__studio.previews > {n} && window.__studio.lastQuality === 'full'",
                               timeout=30_000)
        orig = pixels(page, "#original")
        assert abs(after[0] - orig[0]) < abs(first[0] - orig[0]) + 1e-6 or after[1] != first[1]
        times = page.evaluate("window.__studio.previewTimes")
        assert {t["quality"] for t in times} == {"lut", "full"}

        # the scrubber and compare styles
        page.fill("#frame", "9")
        wait_pixels_change(page, "#original", orig)
        page.click("#compare-button")
        page.wait_for_function("[...document.querySelectorAll('#compare img')].filter(i => i.complete"
                               " && i.naturalWidth).length === 6", timeout=30_000)

        # a bad upload: one clear line on the page, and the page goes on working
        page.set_input_files("#content-file", str(bad))
        page.wait_for_selector("#message:not([hidden])")
        assert "not a readable video or picture" in page.inner_text("#message")

        # render with progress to 100 %, download, check frames and audio
        page.fill("#strength", "0.8")
        page.click("#render")
        done = wait_job(page, "done")
        assert done["bar"] == 100 and "(100%)" in done["text"] and "12 frames" in done["text"]
        page.wait_for_selector("#jobs li video.player")
        with page.expect_download() as dl:
            page.click("#jobs li a.download")
        saved = tmp_path / dl.value.suggested_filename
        dl.value.save_as(saved)
        assert saved.name == "clip-style.mp4"
        with av.open(str(saved)) as c:
            frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
            assert len(c.streams.audio) == 1
        with av.open(str(saved)) as c:
            audio = sum(f.samples for f in c.decode(audio=0))
        assert len(frames) == 12 and frames[0].shape == (96, 160, 3) and audio >= 40_000

        # jobs survive a reload (the state is on the server)
        page.reload()
        page.wait_for_selector("body[data-ready='1']")
        assert wait_job(page, "done")["id"] == done["id"]

        # cancel a second render: no partial file remains
        page.set_input_files("#content-file", str(studio_media["long"]))
        page.wait_for_function("document.querySelectorAll('#content-select option').length === 2")
        page.click("#render")
        wait_job(page, "running")
        page.wait_for_function("(() => { const t = document.querySelector('#jobs li .progress-text');"
                               " return t && / [1-9][0-9]*\\/120 frames/.test(t.textContent); })()",
                               timeout=30_000)
        page.click("#jobs li button.cancel")
        cancelled = wait_job(page, "cancelled")
        outputs = [p.name for p in app.state.studio.workspace.root.rglob("outputs/*")]
        assert not any(cancelled["id"] in o or ".part" in o for o in outputs), outputs
        assert not errors, errors

        # the bare feed with a file camera: the <img>'s pixels change over time
        feed = context.new_page()
        feed.goto(f"{url}/live/feed")
        a = wait_pixels_change(feed, "#feed", None)
        b = wait_pixels_change(feed, "#feed", a)
        c = wait_pixels_change(feed, "#feed", b)
        assert len({a[1], b[1], c[1]}) == 3 and a[2:] == [160, 96]
        live = context.new_page()
        live.goto(f"{url}/live")
        live.wait_for_function("window.__live.frames >= 10 && window.__live.server"
                               " && window.__live.server.latency_ms !== null", timeout=30_000)
        assert live.inner_text("#latency") != "-" and live.inner_text("#feed-latency") != "-"
        # this browser's camera (Chromium's fake device), stylized on the server and shown back
        live.check("input[name=source][value=browser]")
        live.wait_for_function("window.__live.browserFrames >= 3", timeout=30_000)
        before = pixels(live, "#feed")
        assert wait_pixels_change(live, "#feed", before)[1] != before[1]
        feed.close()
        live.close()


@pytest.mark.slow
@pytest.mark.skipif(not SAMPLE.is_file(), reason="samples/street.mp4 is not here")
def test_readme_screenshots(tmp_path):
    """README's pictures of each page, on the shipped sample clip: the look with its split and
    compare styles, a render in progress, the live page."""
    import os

    from rest_video.studio.app import StudioSettings

    folder = os.environ.get("REST_VIDEO_SCREENSHOTS")
    docs = ROOT / folder if folder else tmp_path
    with serve(StudioSettings(camera=str(SAMPLE), root=str(tmp_path))) as (url, app), chromium() as context:
        page = context.new_page()
        page.goto(url)
        page.wait_for_selector("body[data-ready='1']")
        page.set_input_files("#content-file", str(SAMPLE))
        page.wait_for_function("window.__studio.previews >= 1", timeout=60_000)   # uploaded
        page.click("#gallery .thumb[data-style='builtin:evening-glow']")
        page.fill("#frame", "30")
        page.wait_for_function("window.__studio.lastQuality === 'full'", timeout=60_000)
        page.fill("#split", "45")
        page.dispatch_event("#split", "input")
        shot(page, docs, "studio-look.jpg")
        page.click("#compare-button")
        page.wait_for_function("[...document.querySelectorAll('#compare img')].filter(i => i.complete"
                               " && i.naturalWidth).length === 5", timeout=60_000)
        page.locator("#compare").screenshot(path=str(docs / "studio-compare.jpg"), type="jpeg", quality=75)
        page.click("#render")
        page.wait_for_function("(() => { const t = document.querySelector('#jobs li .progress-text');"
                               " return t && /ETA/.test(t.textContent) && / ([5-9]|[1-4][0-9])\\/50/"
                               ".test(t.textContent); })()", timeout=120_000)
        page.locator("#jobs").scroll_into_view_if_needed()
        shot(page, docs, "studio-render.jpg")
        page.click("#jobs li button.cancel")
        live = context.new_page()
        live.goto(f"{url}/live")
        live.wait_for_function("window.__live.frames >= 15 && window.__live.server"
                               " && window.__live.server.latency_ms !== null", timeout=60_000)
        shot(live, docs, "studio-live.jpg")
    for name in ("look", "compare", "render", "live"):
        picture = (docs / f"studio-{name}.jpg").read_bytes()
        assert picture[:3] == b"\xff\xd8\xff" and 10_000 < len(picture) < 300_000
