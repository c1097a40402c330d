"""Start the loopback FHIR R4 test server (fhir/server.mjs: @medplum/fhir-router + memory repository)."""

from __future__ import annotations

import shutil
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

from processes import stop_process

SERVER_SCRIPT = Path(__file__).resolve().parent / "fhir" / "server.mjs"
STARTUP_TIMEOUT_S = 60.0


@dataclass
class FhirServer:
    process: subprocess.Popen
    port: int
    log_path: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/fhir/R4"

    def stop(self) -> None:
        stop_process(self.process)


def start_fhir_server(workdir: Path) -> FhirServer:
    node = shutil.which("node")
    if node is None or not (SERVER_SCRIPT.parent / "node_modules" / "@medplum" / "fhir-router").exists():
        raise RuntimeError("the FHIR test server needs node and its npm packages: run scripts/bootstrap.sh")
    workdir.mkdir(parents=True, exist_ok=True)
    log_path = workdir / "fhir-server.log"
    process = subprocess.Popen([node, str(SERVER_SCRIPT), "0"], cwd=SERVER_SCRIPT.parent, stdout=subprocess.PIPE,
                               stderr=log_path.open("w"), text=True)
    port = _read_port(process, log_path)
    return FhirServer(process, port, log_path)


def _read_port(process: subprocess.Popen, log_path: Path) -> int:
    """The server prints 'listening <port>' once its definitions are indexed (a few seconds)."""
    found: list[str] = []
    reader = threading.Thread(target=lambda: found.append(process.stdout.readline()), daemon=True)
    reader.start()
    reader.join(STARTUP_TIMEOUT_S)
    line = found[0].strip() if found else ""
    if not line.startswith("listening "):
        process.kill()
        raise RuntimeError(f"the FHIR test server did not start (said {line!r}); see {log_path}:\n"
                           + log_path.read_text()[-2000:])
    return int(line.split()[1])
