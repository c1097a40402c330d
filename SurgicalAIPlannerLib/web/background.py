"""Long work of a browser session (segmentation, PACS pull, landmark detection) off the server's event loop.

The work runs in a ``tasks.BackgroundTask`` thread and touches no MRML node; a coroutine on trame's event loop
polls it, shows its progress in the page state, and hands the finished task to ``finish`` on the loop, where
nodes may be made. One task per kind at a time: the page disables its button while ``running``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from ..tasks import BackgroundTask, TaskCancelled

log = logging.getLogger(__name__)

POLL_S = 0.2


class PageTask:
    """One kind of long work with its page state: ``{prefix}_running``, ``_progress`` (0–100), ``_message``, ``_error``."""

    def __init__(self, state, prefix: str, name: str) -> None:
        self.state, self.prefix, self.name = state, prefix, name
        self.task: BackgroundTask | None = None
        self._show(False, 0.0, "", "")

    @property
    def running(self) -> bool:
        return self.task is not None and not self.task.done

    def start(self, work: Callable[..., Any], finish: Callable[[Any], str]) -> None:
        """Run ``work(progress)`` in a thread; ``finish(result)`` runs on the event loop and returns the final message."""
        if self.running:
            return
        self.task = BackgroundTask(work, name=self.name)
        self._show(True, 0.0, f"{self.name}: starting", "")
        asyncio.get_running_loop().create_task(self._follow(self.task, finish))

    def cancel(self) -> None:
        if self.running:
            self.task.cancel()

    async def _follow(self, task: BackgroundTask, finish: Callable[[Any], str]) -> None:
        while not task.done:
            fraction, message = task.progress.snapshot()
            with self.state:
                self._show(True, fraction, message, "")
            await asyncio.sleep(POLL_S)
        with self.state:
            self._finish(task, finish)

    def _finish(self, task: BackgroundTask, finish: Callable[[Any], str]) -> None:
        try:
            message = finish(task.result())
        except TaskCancelled:
            self._show(False, 0.0, f"{self.name}: cancelled", "")
            return
        except Exception as error:  # shown in the page; the session stays usable
            log.warning("%s failed: %s", self.name, error)
            self._show(False, 0.0, "", f"{self.name} failed: {error}")
            return
        self._show(False, 1.0, message, "")

    def _show(self, running: bool, fraction: float, message: str, error: str) -> None:
        self.state.update({f"{self.prefix}_running": running, f"{self.prefix}_progress": round(100 * fraction),
                           f"{self.prefix}_message": message, f"{self.prefix}_error": error})
