"""Where live frames go: a virtual camera (pyvirtualcam) or memory (tests, library use).

Every sink has ``send(rgb uint8 (H, W, 3), frame=None)`` and ``close()``, the frame sink interface
of file mode (:class:`rest_video.pipeline.frames.FrameSink`); sinks are context managers.
"""

from __future__ import annotations

import logging

import numpy as np

from rest_video.core.errors import DeviceError, ShapeError, first_line

log = logging.getLogger(__name__)

INSTALL_HINT = ("install the optional extra with  pip install 'rest-video[live]'  (pyvirtualcam) and a "
                "virtual camera backend: on Linux the v4l2loopback kernel module "
                "(apt install v4l2loopback-dkms; sudo modprobe v4l2loopback), "
                "on Windows / macOS OBS Studio's Virtual Camera")


class Sink:
    """Base class: a destination for RGB frames of one fixed size."""

    def send(self, rgb: np.ndarray, frame=None) -> None:
        raise NotImplementedError

    def close(self) -> None:
        pass

    def __enter__(self) -> "Sink":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class MemorySink(Sink):
    """Keeps the frames it receives (the newest ``keep`` of them; None = all)."""

    def __init__(self, keep: int | None = None) -> None:
        self.keep = keep
        self.frames: list[np.ndarray] = []
        self.count = 0
        self.closed = False

    def send(self, rgb: np.ndarray, frame=None) -> None:
        self.frames.append(np.array(rgb, copy=True))
        if self.keep is not None and len(self.frames) > self.keep:
            del self.frames[: len(self.frames) - self.keep]
        self.count += 1

    def close(self) -> None:
        self.closed = True


class VirtualCamSink(Sink):
    """A virtual camera other programs (video calls, OBS) can open, through ``pyvirtualcam``.

    Raises:
        DeviceError: pyvirtualcam is not installed, or no virtual camera backend / device exists;
            the message says what to install.
    """

    def __init__(self, width: int, height: int, fps: float, device: str | None = None,
                 backend: str | None = None) -> None:
        try:
            import pyvirtualcam
        except ImportError:
            raise DeviceError(
                f"--virtual-cam needs pyvirtualcam, which is not installed: {INSTALL_HINT}"
            ) from None
        self.size = (int(width), int(height))
        try:
            self.cam = pyvirtualcam.Camera(width=int(width), height=int(height), fps=float(fps),
                                           fmt=pyvirtualcam.PixelFormat.RGB, device=device, backend=backend)
        except Exception as e:  # noqa: BLE001 - pyvirtualcam raises RuntimeError/ValueError per backend
            reason = first_line(e, None)
            raise DeviceError(
                f"--virtual-cam: no virtual camera available ({reason}); {INSTALL_HINT}"
            ) from None
        log.info("virtual camera: %s (%sx%s @ %g fps)", self.cam.device, width, height, fps)

    def send(self, rgb: np.ndarray, frame=None) -> None:
        if (rgb.shape[1], rgb.shape[0]) != self.size:
            raise ShapeError(f"virtual camera is {self.size[0]}x{self.size[1]}, got a "
                             f"{rgb.shape[1]}x{rgb.shape[0]} frame")
        self.cam.send(np.ascontiguousarray(rgb))

    def close(self) -> None:
        cam, self.cam = getattr(self, "cam", None), None
        if cam is not None:
            cam.close()
