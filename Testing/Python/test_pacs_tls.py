"""PACS over HTTPS against a real Orthanc serving a self-signed certificate for 127.0.0.1.

Default settings must refuse the server (certificate not trusted) at once, with a message naming the
URL; with the certificate given as CA bundle (``--ca-bundle`` / ``ca_bundle=``) search and pull work.
Credentials come from the environment, as users give them.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from integration_fixtures import (ORTHANC_PASSWORD, ORTHANC_USER, SERIES_UID, STUDY_UID, ct_series_with_uids,  # noqa: F401
                                  pacs_credentials)
from SurgicalAIPlannerLib.cli import main
from SurgicalAIPlannerLib.imaging import load_ct
from SurgicalAIPlannerLib.pacs import ENV_PREFIX, PacsClient, RemoteError, RetryPolicy, load_credentials, pull, push

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "Servers"))
from orthanc_server import OrthancServer, start_orthanc  # noqa: E402


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """(certificate, certificate + private key) for CN/IP 127.0.0.1, made with the openssl command."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.fail("the openssl command is missing (Debian package openssl)")
    certificate, key = folder / "server-cert.pem", folder / "server-key.pem"
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(certificate)],
                   check=True, capture_output=True)
    combined = folder / "server.pem"
    combined.write_text(certificate.read_text() + key.read_text())
    combined.chmod(0o600)
    return certificate, combined


@pytest.fixture(scope="module")
def tls_orthanc(tmp_path_factory, ct_series_with_uids) -> tuple[OrthancServer, Path]:
    """Orthanc on HTTPS with the CT series stored; yields the server and its certificate (the CA to trust)."""
    folder = tmp_path_factory.mktemp("orthanc_tls")
    certificate, pem = self_signed_certificate(folder)
    server = start_orthanc(folder / "orthanc", ORTHANC_USER, ORTHANC_PASSWORD, tls_pem=pem)
    try:
        assert server.base_url.startswith("https://")
        for path in sorted(ct_series_with_uids.iterdir()):
            assert server.rest("POST", "/instances", data=path.read_bytes()).status_code == 200
        yield server, certificate
    finally:
        server.stop()


def test_default_settings_refuse_a_self_signed_server_at_once(tls_orthanc, pacs_credentials, capsys):
    server, _ = tls_orthanc
    waits: list[float] = []
    client = PacsClient(server.dicomweb_url, load_credentials(ENV_PREFIX), retry=RetryPolicy(attempts=4),
                        sleep=waits.append)
    with pytest.raises(RemoteError) as caught:
        client.search_studies()
    message = str(caught.value)
    assert message.startswith(f"{server.dicomweb_url}: search studies (QIDO-RS): TLS certificate verification failed")
    assert "--ca-bundle" in message and not caught.value.transient
    assert waits == []  # no retry storm: a certificate problem does not go away by retrying

    assert main(["pacs", "search", server.dicomweb_url, "--attempts", "4"]) == 3
    error = capsys.readouterr().err
    assert f"error: {server.dicomweb_url}: " in error and "TLS certificate verification failed" in error
    assert "retry" not in error and ORTHANC_PASSWORD not in error


def test_ca_bundle_makes_search_and_pull_work(tls_orthanc, ct_series_with_uids, pacs_credentials, tmp_path, capsys,
                                              monkeypatch):
    server, certificate = tls_orthanc
    # Managed machines often set these; plain requests would let them override the bundle we give.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    monkeypatch.setenv("CURL_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    client = PacsClient(server.dicomweb_url, load_credentials(ENV_PREFIX), ca_bundle=certificate)
    assert [s.study_instance_uid for s in client.search_studies()] == [STUDY_UID]
    result = pull(client, STUDY_UID, tmp_path / "api")
    assert result.instances_per_series == {SERIES_UID: 20}
    assert np.array_equal(result.volume.array, load_ct(ct_series_with_uids).array)

    assert main(["pacs", "search", server.dicomweb_url, "--ca-bundle", str(certificate)]) == 0
    assert STUDY_UID in capsys.readouterr().out
    assert main(["pacs", "pull", server.dicomweb_url, "--ca-bundle", str(certificate), "--study", STUDY_UID,
                 "--output", str(tmp_path / "cli")]) == 0
    assert "512 x 512 x 20" in capsys.readouterr().out


def test_push_over_tls_with_ca_bundle(tls_orthanc, ct_series_with_uids, pacs_credentials):
    server, certificate = tls_orthanc
    client = PacsClient(server.dicomweb_url, load_credentials(ENV_PREFIX), ca_bundle=certificate)
    assert push(client, [ct_series_with_uids]).studies == (STUDY_UID,)
