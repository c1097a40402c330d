"""Long work off the GUI thread, with progress and cancel.

The GUI (Slicer's panel, the browser page) starts a ``BackgroundTask`` and polls it from its own event
loop (a QTimer, a trame callback); the work function reports progress through the ``Progress`` it is
given and checks ``progress.cancelled``. MRML nodes are only touched from the polling (GUI) thread:
the work returns plain data (arrays, dicts), the GUI turns it into nodes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


class TaskCancelled(Exception):
    """Raised inside the work function when the user pressed cancel."""


@dataclass
class Progress:
    """What the work reports: a fraction in [0, 1] and a line for the user; ``cancelled`` is set by the GUI."""

    fraction: float = 0.0
    message: str = ""
    _cancel: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, fraction: float, message: str = "") -> None:
        """Report progress; raises TaskCancelled when cancel was requested, so work stops at the next report."""
        with self._lock:
            self.fraction = min(max(float(fraction), 0.0), 1.0)
            if message:
                self.message = message
        if self._cancel.is_set():
            raise TaskCancelled(self.message or "cancelled")

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def snapshot(self) -> tuple[float, str]:
        with self._lock:
            return self.fraction, self.message


class BackgroundTask:
    """Runs ``work(progress, *args)`` in a daemon thread; the caller polls ``done``/``result()``."""

    def __init__(self, work: Callable[..., Any], *args: Any, name: str = "task") -> None:
        self.name = name
        self.progress = Progress()
        self._result: Any = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(work, args), name=name, daemon=True)
        self.started_at = time.monotonic()
        self._thread.start()

    def _run(self, work: Callable[..., Any], args: tuple) -> None:
        try:
            self._result = work(self.progress, *args)
            self.progress(1.0)
        except BaseException as error:  # handed to the GUI thread, which reports it
            self._error = error

    @property
    def done(self) -> bool:
        return not self._thread.is_alive()

    def cancel(self) -> None:
        self.progress._cancel.set()

    def wait(self, timeout: float | None = None) -> bool:
        self._thread.join(timeout)
        return self.done

    def result(self) -> Any:
        """The work's return value; re-raises its error (TaskCancelled when cancelled) in the caller's thread."""
        if not self.done:
            raise RuntimeError(f"{self.name} is still running")
        if self._error is not None:
            raise self._error
        return self._result
