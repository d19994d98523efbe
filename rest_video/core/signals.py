"""SIGINT, SIGTERM and SIGHUP stop a command the same way: as an :class:`Interrupted` exception.

:class:`Interrupted` derives from ``KeyboardInterrupt``, so everything that already cleans up after
Ctrl-C (temporary outputs removed, writers closed without flushing, a training checkpoint saved)
does the same after ``kill`` or a closed terminal. The command then exits ``128 + N``, as a shell
reports a process that a signal N ended. This module imports nothing heavy: the command installs
the handlers before it imports torch, so an interrupt during start-up is one line too.
"""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from typing import Iterator

STOP_SIGNALS: tuple[signal.Signals, ...] = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))
"""The signals that stop a command (SIGHUP does not exist on Windows)."""


class Interrupted(KeyboardInterrupt):
    """A stop signal arrived; ``signum`` says which one."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal_name(signum))
        self.signum = int(signum)


def signal_name(signum: int) -> str:
    """``SIGTERM`` for 15, and so on."""
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def exit_status(exc: BaseException) -> int:
    """The exit status after an interrupt: 128 + the signal number (130 for a plain Ctrl-C)."""
    return 128 + int(getattr(exc, "signum", signal.SIGINT))


_FIRED: list[int] = []  # the stop signal that fired inside stop_signals_raise, if any


def raise_if_stopped() -> None:
    """Raise :class:`Interrupted` again if a stop signal fired: a frame loop calls it, because the
    handler's exception can be swallowed when the signal lands inside a C library's callback into
    Python (FFmpeg's log callback through PyAV), and the run would then go on to the end."""
    if _FIRED:
        raise Interrupted(_FIRED[0])


@contextmanager
def stop_signals_raise() -> Iterator[None]:
    """While inside, each of :data:`STOP_SIGNALS` raises :class:`Interrupted` in the main thread.

    Only the first signal raises; later ones are ignored, so the clean-up that the first one set
    off (removing a temporary output) is not itself interrupted. The previous handlers come back
    on leaving. Outside the main thread (where Python cannot install handlers) nothing changes.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    fired = _FIRED
    fired.clear()

    def handle(signum, frame) -> None:
        if fired:
            return
        fired.append(signum)
        raise Interrupted(signum)

    old = {}
    try:
        for sig in STOP_SIGNALS:
            old[sig] = signal.signal(sig, handle)
        yield
    finally:
        for sig, previous in old.items():
            signal.signal(sig, previous)
        fired.clear()
