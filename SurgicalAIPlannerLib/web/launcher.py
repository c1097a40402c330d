"""The front door of ``surgical-planner serve``: one planner process per browser session.

A browser opening ``/`` gets a new session process (``session_server``) on a free port and is redirected to
it, so every session has its own MRML scene. A session process exits by itself once no browser has been
connected to it for ``idle_timeout`` seconds; the launcher stops the ones left when it stops.
``/sessions`` lists the live sessions (process id, port, resident memory) for the operator.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import sys
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

log = logging.getLogger(__name__)

SESSION_START_TIMEOUT_S = 180.0
# A session process prints this line on stdout once its page is served.
READY_LINE = "planner-session-ready"
# Each session autosaves its plan into its own sub-folder of this one.
DEFAULT_PLANS_DIR = Path.home() / "SurgicalAIPlanner" / "web-plans"


@dataclass
class SessionProcess:
    process: asyncio.subprocess.Process
    port: int

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def alive(self) -> bool:
        return self.process.returncode is None


def free_port(host: str) -> int:
    """A port the OS reports free on ``host`` now (the session binds it a moment later)."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def resident_memory_mib(pid: int) -> float:
    """Resident set size of a process (Linux /proc), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    raise RuntimeError(f"process {pid} reports no resident memory")


class SessionLauncher:
    def __init__(self, host: str, case: Path | None = None, idle_timeout_s: int = 300,
                 plans_dir: Path = DEFAULT_PLANS_DIR, pacs_url: str = "") -> None:
        self.host = host
        self.case = case
        self.pacs_url = pacs_url
        self.plans_dir = plans_dir
        self.idle_timeout_s = idle_timeout_s
        self.sessions: list[SessionProcess] = []

    def session_command(self, port: int) -> list[str]:
        command = [sys.executable, "-m", "SurgicalAIPlannerLib.web.session_server", "--server",
                   "--host", self.host, "--port", str(port), "--timeout", str(self.idle_timeout_s), "--plans-dir", str(self.plans_dir)]
        command += ["--pacs-url", self.pacs_url] if self.pacs_url else []
        return command + (["--case", str(self.case)] if self.case else [])

    async def start_session(self) -> SessionProcess:
        """Start a session process and wait until it serves its page."""
        port = free_port(self.host)
        process = await asyncio.create_subprocess_exec(*self.session_command(port), stdout=asyncio.subprocess.PIPE)
        session = SessionProcess(process, port)
        try:
            await asyncio.wait_for(self._wait_ready(process), SESSION_START_TIMEOUT_S)
        except (asyncio.TimeoutError, RuntimeError):
            await self._stop(session)
            raise
        self.sessions.append(session)
        asyncio.get_running_loop().create_task(self._follow(session))
        log.info("session %d serves port %d (%d live)", session.pid, port, len(self.sessions))
        return session

    @staticmethod
    async def _wait_ready(process: asyncio.subprocess.Process) -> None:
        while line := await process.stdout.readline():
            if line.decode(errors="replace").strip() == READY_LINE:
                return
        raise RuntimeError(f"the session process exited with status {await process.wait()} before serving")

    async def _follow(self, session: SessionProcess) -> None:
        """Drain the session's output (a full pipe would block it) and forget it when it exits."""
        while await session.process.stdout.readline():
            pass
        await session.process.wait()
        self.sessions.remove(session)
        log.info("session %d ended with status %d", session.pid, session.process.returncode)

    @staticmethod
    async def _stop(session: SessionProcess) -> None:
        if session.alive:
            session.process.terminate()
            try:
                await asyncio.wait_for(session.process.wait(), 10)
            except asyncio.TimeoutError:
                session.process.kill()
                await session.process.wait()

    async def stop_all(self) -> None:
        await asyncio.gather(*(self._stop(session) for session in list(self.sessions)))

    # HTTP handlers
    async def open_page(self, request: web.Request) -> web.Response:
        try:
            session = await self.start_session()
        except (asyncio.TimeoutError, RuntimeError) as error:
            log.error("could not start a planner session: %s", error)
            return web.Response(status=503, text=f"The planner could not start a session: {error}")
        # The browser reaches the session on the host name it used for the launcher.
        raise web.HTTPFound(f"{request.url.scheme}://{request.url.host}:{session.port}/")

    async def list_sessions(self, _request: web.Request) -> web.Response:
        rows = [{"pid": s.pid, "port": s.port, "rss_mib": round(resident_memory_mib(s.pid), 1)}
                for s in self.sessions if s.alive]
        return web.json_response(rows)

    def web_app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/", self.open_page)
        app.router.add_get("/sessions", self.list_sessions)
        app.on_shutdown.append(lambda _app: self.stop_all())
        return app
