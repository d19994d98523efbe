"""Uploaded files: received with a size limit, type-checked by decoding, kept under a random id.

A file is accepted only when it decodes: a photo through Pillow (its size read from the header and
checked against ``max_pixels`` before any pixel is decoded, so a small PNG that claims 50000 x 50000
pixels, a decompression bomb, is refused without allocating them), a video through PyAV (a video
stream whose first frame decodes, of at most ``max_pixels`` a frame). The name the browser sent is
kept for display only; the file on disk is ``<id><ext>`` with the extension of the detected format.
"""

from __future__ import annotations

import threading
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import AsyncIterator

from rest_video.core.errors import MediaError
from rest_video.studio.workspace import Session, check_id, new_id

IMAGE_FORMATS = {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp", "BMP": ".bmp", "TIFF": ".tif"}
"""Pillow formats accepted as photos, and the extension each is stored with."""

VIDEO_EXT = {"mp4": ".mp4", "mov": ".mov", "matroska": ".mkv", "webm": ".webm", "avi": ".avi"}
"""PyAV container names (the first of its comma-separated list) accepted as videos -> extension."""


@dataclass(frozen=True)
class Upload:
    id: str
    session: str
    kind: str          # "image" or "video"
    path: Path
    name: str          # the browser's file name, for display only
    width: int
    height: int
    frames: int        # 1 for an image
    fps: float
    role: str = "content"  # what the page uploaded it as: "content" or "style"

    def public(self) -> dict:
        return {"id": self.id, "kind": self.kind, "role": self.role, "name": self.name, "width": self.width,
                "height": self.height, "frames": self.frames, "fps": round(self.fps, 3)}


def display_name(name: str | None) -> str:
    """The last part of a browser's file name, printable, at most 80 characters (display only)."""
    base = (name or "upload").replace("\\", "/").rsplit("/", 1)[-1]
    clean = "".join(c for c in base if c.isprintable())[:80].strip()
    return clean or "upload"


def probe_image(path: Path, max_pixels: int) -> tuple[str, int, int]:
    """(format, width, height) of a photo that decodes, or :class:`MediaError` with one line."""
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                fmt, (w, h) = img.format, img.size
                if w * h > max_pixels:
                    raise MediaError(f"the picture is {w} x {h} pixels: more than the {max_pixels / 1e6:.0f} "
                                     "megapixels the studio accepts")
                if fmt not in IMAGE_FORMATS:
                    raise MediaError(f"{fmt} pictures are not accepted (JPEG, PNG, WebP, BMP, TIFF are)")
                img.load()
    except MediaError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise MediaError("the picture claims more pixels than the studio accepts "
                         "(a decompression bomb?)") from None
    except Exception as e:  # noqa: BLE001 - Pillow raises many kinds for a damaged file
        raise MediaError(f"not a readable picture ({type(e).__name__})") from None
    return fmt, w, h


def probe_video(path: Path, max_pixels: int) -> tuple[str, int, int, int, float]:
    """(container, width, height, frames, fps) of a video whose first frame decodes, or
    :class:`MediaError`."""
    import av

    try:
        with av.open(str(path)) as c:
            if not c.streams.video:
                raise MediaError("the file has no video stream")
            s = c.streams.video[0]
            w, h = s.codec_context.width, s.codec_context.height
            if w * h > max_pixels:
                raise MediaError(f"the video is {w} x {h}: more than the {max_pixels / 1e6:.0f} megapixels "
                                 "a frame the studio accepts")
            if next(c.decode(video=0), None) is None:
                raise MediaError("no video frame decodes")
            fmt = c.format.name.split(",")[0]
            fps = float(s.average_rate or s.guessed_rate or 25)
            frames = int(s.frames or 0)
    except MediaError:
        raise
    except Exception as e:  # noqa: BLE001 - av.error.* for anything not a video
        raise MediaError(f"not a readable video or picture ({type(e).__name__})") from None
    if fmt not in VIDEO_EXT:
        raise MediaError(f"{fmt} files are not accepted (MP4, MOV, MKV, WebM, AVI are)")
    if frames <= 0:
        from rest_video.io.clips import frame_count

        frames = frame_count(path)
    return fmt, w, h, frames, fps


class Uploads:
    """The uploads of every session, by id.

    Args:
        max_bytes: the largest upload accepted.
        max_pixels: the largest photo or video frame accepted.
    """

    def __init__(self, max_bytes: int = 512 * 2**20, max_pixels: int = 40_000_000) -> None:
        self.max_bytes, self.max_pixels = int(max_bytes), int(max_pixels)
        self._items: dict[str, Upload] = {}
        self._lock = threading.Lock()

    async def receive(self, session: Session, chunks: AsyncIterator[bytes], name: str | None, role: str,
                      declared: int | None = None) -> Upload:
        """Store a request body (``role``: "content" takes a video or a photo, "style" a photo)."""
        if role not in ("content", "style"):
            raise MediaError("an upload is a 'content' or a 'style'")
        if declared is not None and declared > self.max_bytes:
            raise self._too_large()
        uid = new_id()
        raw = session.uploads / f"{uid}.upload"
        size = 0
        try:
            with open(raw, "xb") as f:
                async for chunk in chunks:
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise self._too_large()
                    f.write(chunk)
            if size == 0:
                raise MediaError("the file is empty")
            import anyio.to_thread

            return await anyio.to_thread.run_sync(self._accept, session, uid, raw, display_name(name), role)
        except BaseException:
            raw.unlink(missing_ok=True)
            raise

    def _too_large(self) -> MediaError:
        return MediaError(f"the file is larger than the {self.max_bytes // 2**20} MB the studio accepts")

    def _accept(self, session: Session, uid: str, raw: Path, name: str, role: str) -> Upload:
        image_error = None
        try:
            fmt, w, h = probe_image(raw, self.max_pixels)
            kind, frames, fps, ext = "image", 1, 0.0, IMAGE_FORMATS[fmt]
        except MediaError as e:
            image_error = e
        if image_error is not None:
            if role == "style" or _looks_like_image(raw):
                raise MediaError(f"{name}: {image_error}" if role != "style" else
                                 f"{name}: a style must be a photo: {image_error}")
            fmt, w, h, frames, fps = probe_video(raw, self.max_pixels)
            kind, ext = "video", VIDEO_EXT[fmt]
        path = raw.with_name(uid + ext)
        raw.rename(path)
        up = Upload(uid, session.id, kind, path, name, w, h, frames, fps, role)
        with self._lock:
            self._items[uid] = up
        return up

    def get(self, session: Session, uid: str, kind: str | None = None) -> Upload:
        """The upload ``uid`` of ``session``; a malformed, unknown or another session's id is the same
        one-line :class:`MediaError`."""
        check_id(uid, "upload")
        with self._lock:
            up = self._items.get(uid)
        if up is None or up.session != session.id or not up.path.is_file():
            raise MediaError("unknown upload (it may have expired: upload it again)")
        if kind is not None and up.kind != kind:
            raise MediaError(f"{up.name} is not a {kind}")
        return up

    def of_session(self, session: Session) -> list[Upload]:
        with self._lock:
            return [u for u in self._items.values() if u.session == session.id and u.path.is_file()]

    def forget(self, session_ids: list[str]) -> None:
        with self._lock:
            for k in [k for k, u in self._items.items() if u.session in session_ids]:
                del self._items[k]


def _looks_like_image(path: Path) -> bool:
    """True when the file starts like a photo format (so a broken PNG gets the picture's message)."""
    with open(path, "rb") as f:
        head = f.read(12)
    return (head.startswith(b"\x89PNG") or head.startswith(b"\xff\xd8\xff") or head[:4] == b"RIFF"
            and head[8:12] == b"WEBP" or head.startswith(b"BM") or head[:4] in (b"II*\x00", b"MM\x00*"))
