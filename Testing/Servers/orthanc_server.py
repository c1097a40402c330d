"""Start a real Orthanc (Debian ``orthanc`` + ``orthanc-dicomweb``) for the tests.

Loopback only (the LD_PRELOAD shim built by scripts/bootstrap-extra.sh turns Orthanc's wildcard
bind into 127.0.0.1), a free port, HTTP Basic authentication on, DICOM networking off, storage in
the given folder. The test controls the process: stop it, or freeze it to make requests time out.
With ``tls_pem`` (a PEM file holding the certificate and its private key) Orthanc serves HTTPS only
(its ``SslEnabled``/``SslCertificate`` options); the test helpers then verify against that certificate.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import requests

from ports import free_port
from processes import stop_process

SERVERS_DIR = Path(__file__).resolve().parent
BIND_SHIM = SERVERS_DIR / "build" / "loopback_bind.so"
# Needed for HTTPS only: Debian's civetweb asks OpenSSL 3 for a function it renamed (civetweb_openssl3.c).
TLS_SHIM = SERVERS_DIR / "build" / "civetweb_openssl3.so"
DICOMWEB_PLUGIN = Path("/usr/share/orthanc/plugins/libOrthancDicomWeb.so")
STARTUP_TIMEOUT_S = 30.0


@dataclass
class OrthancServer:
    process: subprocess.Popen
    port: int
    username: str
    password: str
    workdir: Path
    tls_pem: Path | None = None

    @property
    def base_url(self) -> str:
        return f"{'https' if self.tls_pem else 'http'}://127.0.0.1:{self.port}"

    @property
    def dicomweb_url(self) -> str:
        return f"{self.base_url}/dicom-web"

    @property
    def log_path(self) -> Path:
        return self.workdir / "orthanc.log"

    def rest(self, method: str, path: str, **kwargs) -> requests.Response:
        """Orthanc's own REST API (not DICOMweb), for test set-up and checks."""
        return requests.request(method, self.base_url + path, auth=(self.username, self.password), timeout=30,
                                verify=str(self.tls_pem) if self.tls_pem else True, **kwargs)

    def freeze(self) -> None:
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        self.process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.thaw()  # a frozen (SIGSTOP) server cannot act on SIGTERM
        stop_process(self.process)


def start_orthanc(workdir: Path, username: str, password: str, tls_pem: Path | None = None) -> OrthancServer:
    _check_installed(tls_pem is not None)
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    config = workdir / "orthanc.json"
    configuration = _configuration(workdir, port, username, password)
    if tls_pem:
        configuration.update({"SslEnabled": True, "SslCertificate": str(tls_pem)})
    config.write_text(json.dumps(configuration, indent=2))
    config.chmod(0o600)
    preload = f"{BIND_SHIM}:{TLS_SHIM}" if tls_pem else str(BIND_SHIM)  # this order: see civetweb_openssl3.c
    environment = dict(os.environ, LD_PRELOAD=preload)
    log = (workdir / "orthanc.log").open("w")
    process = subprocess.Popen([shutil.which("Orthanc"), str(config)], stdout=log, stderr=subprocess.STDOUT,
                               env=environment, cwd=workdir)
    server = OrthancServer(process, port, username, password, workdir, tls_pem)
    _wait_until_ready(server)
    return server


def _check_installed(tls: bool) -> None:
    missing = [what for what, ok in (("Orthanc (Debian package orthanc)", shutil.which("Orthanc")),
                                     (f"{DICOMWEB_PLUGIN} (Debian package orthanc-dicomweb)", DICOMWEB_PLUGIN.exists()),
                                     (f"{BIND_SHIM}", BIND_SHIM.exists()),
                                     (f"{TLS_SHIM}", TLS_SHIM.exists() or not tls)) if not ok]
    if missing:
        raise RuntimeError(f"missing {', '.join(missing)}: run scripts/bootstrap.sh")


def _configuration(workdir: Path, port: int, username: str, password: str) -> dict:
    return {
        "Name": "surgical-planner-test",
        "StorageDirectory": str(workdir / "storage"),
        "IndexDirectory": str(workdir / "storage"),
        "HttpPort": port,
        "DicomServerEnabled": False,
        "RemoteAccessAllowed": False,
        "AuthenticationEnabled": True,
        "RegisteredUsers": {username: password},
        "HttpTimeout": 10,
        "Plugins": [str(DICOMWEB_PLUGIN)],
        "DicomWeb": {"Enable": True, "Root": "/dicom-web/", "StudiesMetadata": "Full", "SeriesMetadata": "Full"},
    }


def _wait_until_ready(server: OrthancServer) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"Orthanc exited with status {server.process.returncode} at start-up; see {server.log_path}:\n"
                               + server.log_path.read_text()[-2000:])
        try:
            if server.rest("GET", "/system").status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"Orthanc did not answer within {STARTUP_TIMEOUT_S:.0f} s; see {server.log_path}")
