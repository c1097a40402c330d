"""PACS exchange against a real Orthanc (DICOMweb plugin, authentication on) with the real CT series.

Faults are real too: a stopped server, a frozen one (timeouts), wrong credentials, unknown UIDs, a
series stored incomplete, Orthanc stopped in the middle of a pull, and 5xx answers injected by a
gateway in front of Orthanc (Testing/Servers/fault_proxy.py).
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import numpy as np
import pytest

from integration_fixtures import (ORTHANC_PASSWORD, ORTHANC_USER, SERIES_UID, SOURCE_PHI, STUDY_UID,
                                  ct_series_with_uids, orthanc, own_orthanc, pacs_credentials)  # noqa: F401
from SurgicalAIPlannerLib.cli import main
from SurgicalAIPlannerLib.imaging import load_ct
from SurgicalAIPlannerLib.pacs import (Credentials, PacsClient, PushInputError, RemoteError, RetryPolicy, pull,
                                       push)

FAST_RETRY = RetryPolicy(attempts=3, first_delay_s=0.05, max_delay_s=0.2)


def client_for(url: str, password: str = ORTHANC_PASSWORD, **kwargs) -> PacsClient:
    return PacsClient(url, Credentials(ORTHANC_USER, password), retry=kwargs.pop("retry", FAST_RETRY), **kwargs)


@pytest.fixture(scope="module")
def stored_study(orthanc, ct_series_with_uids) -> str:
    push(client_for(orthanc.dicomweb_url), [ct_series_with_uids])
    return STUDY_UID


def leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir()) if parent.exists() else []


def test_cli_push_search_pull_round_trip_is_bit_exact(orthanc, ct_series_with_uids, pacs_credentials, tmp_path,
                                                      capsys, caplog):
    caplog.set_level(logging.DEBUG)
    assert main(["pacs", "push", orthanc.dicomweb_url, str(ct_series_with_uids)]) == 0
    assert "stored 20 instance(s)" in capsys.readouterr().out

    assert main(["pacs", "search", orthanc.dicomweb_url, "--patient-id", SOURCE_PHI["PatientID"],
                 "--modality", "CT"]) == 0
    listing = capsys.readouterr().out
    assert "1 study" in listing and STUDY_UID in listing
    assert main(["pacs", "search", orthanc.dicomweb_url, "--patient-id", "nobody"]) == 0
    assert "0 studies" in capsys.readouterr().out

    output = tmp_path / "pulled"
    assert main(["pacs", "pull", orthanc.dicomweb_url, "--study", STUDY_UID, "--series", SERIES_UID,
                 "--output", str(output)]) == 0
    out = capsys.readouterr()
    assert "loaded CT" in out.out and "512 x 512 x 20" in out.out

    original, pulled = load_ct(ct_series_with_uids), load_ct(output)
    assert pulled.array.dtype == original.array.dtype
    assert np.array_equal(pulled.array, original.array)
    assert pulled.spacing == original.spacing and pulled.origin == original.origin
    assert np.array_equal(pulled.direction, original.direction)
    assert leftovers(tmp_path) == ["pulled"]
    everything = out.out + out.err + caplog.text
    assert ORTHANC_PASSWORD not in everything


def test_push_refuses_files_without_uids_and_sends_nothing(orthanc, dicom_series_dir, tmp_path):
    before = orthanc.rest("GET", "/instances").json()
    with pytest.raises(PushInputError) as caught:
        push(client_for(orthanc.dicomweb_url), [dicom_series_dir])
    message = str(caught.value)
    assert "20 of 20 file(s) cannot be pushed; nothing was sent" in message
    assert "empty or invalid SOPClassUID, SOPInstanceUID, SeriesInstanceUID, StudyInstanceUID" in message
    assert str(next(iter(sorted(dicom_series_dir.iterdir())))) in message
    assert orthanc.rest("GET", "/instances").json() == before


def test_push_names_a_file_that_is_not_dicom(orthanc, tmp_path):
    stray = tmp_path / "notes.txt"
    stray.write_text("not an image")
    with pytest.raises(PushInputError, match=r"notes\.txt: not a DICOM file"):
        push(client_for(orthanc.dicomweb_url), [stray])


def test_wrong_password_is_401_and_not_retried(orthanc, stored_study):
    waits: list[float] = []
    client = client_for(orthanc.dicomweb_url, password="wrong", sleep=waits.append)
    with pytest.raises(RemoteError, match=r"authentication failed \(HTTP 401\)") as caught:
        client.search_studies()
    assert waits == [] and caught.value.status == 401
    assert "wrong" not in str(caught.value)


def test_unknown_study_and_wrong_base_url(orthanc, stored_study, tmp_path):
    with pytest.raises(RemoteError, match="study 1.2.3.4.5 was not found"):
        pull(client_for(orthanc.dicomweb_url), "1.2.3.4.5", tmp_path / "out")
    with pytest.raises(RemoteError, match=r"not found \(HTTP 404\)"):
        client_for(orthanc.base_url + "/no-dicom-web").search_studies()
    with pytest.raises(RemoteError, match=f"has no series 9.9.9; it has: {SERIES_UID} \\(CT\\)"):
        pull(client_for(orthanc.dicomweb_url), stored_study, tmp_path / "out", series_uid="9.9.9")
    assert leftovers(tmp_path) == []


def test_pull_never_overwrites(orthanc, stored_study, tmp_path):
    (tmp_path / "exists").mkdir()
    with pytest.raises(FileExistsError, match="already exists"):
        pull(client_for(orthanc.dicomweb_url), stored_study, tmp_path / "exists")


def test_server_down_is_retried_with_backoff_then_reported(own_orthanc, tmp_path):
    own_orthanc.stop()
    waits: list[float] = []
    client = client_for(own_orthanc.dicomweb_url, sleep=waits.append)
    with pytest.raises(RemoteError, match=r"cannot connect, the server is down or unreachable \(gave up after 3 attempts\)"):
        pull(client, STUDY_UID, tmp_path / "pulls" / "out")
    assert waits == [0.05, 0.1]
    assert leftovers(tmp_path / "pulls") == []


def test_frozen_server_times_out(own_orthanc, tmp_path):
    own_orthanc.freeze()
    try:
        client = client_for(own_orthanc.dicomweb_url, timeout_s=1.0, retry=RetryPolicy(attempts=2, first_delay_s=0.05))
        with pytest.raises(RemoteError, match=r"did not answer in time \(timeout\) \(gave up after 2 attempts\)"):
            client.search_studies()
    finally:
        own_orthanc.thaw()


def test_orthanc_stopped_mid_pull_leaves_nothing(own_orthanc, ct_series_with_uids, tmp_path):
    client = client_for(own_orthanc.dicomweb_url)
    push(client, [ct_series_with_uids])
    received: list[int] = []

    def stop_after_five(done: int, total: int) -> None:
        received.append(done)
        if done == 5:
            own_orthanc.stop()

    output = tmp_path / "pulls" / "ct"
    with pytest.raises(RemoteError, match="cannot connect") as caught:
        pull(client, STUDY_UID, output, on_instance=stop_after_five)
    assert received == [1, 2, 3, 4, 5]
    assert "retrieve instance" in str(caught.value)
    assert not output.exists() and leftovers(output.parent) == []


def test_series_stored_incomplete_is_refused(own_orthanc, ct_series_with_uids, tmp_path):
    files = sorted(ct_series_with_uids.iterdir(), key=lambda p: load_position(p))
    incomplete = tmp_path / "incomplete"
    incomplete.mkdir()
    for path in files[:9] + files[10:]:  # the 10th slice never reached the PACS
        shutil.copy(path, incomplete / path.name)
    client = client_for(own_orthanc.dicomweb_url)
    push(client, [incomplete])
    output = tmp_path / "out"
    with pytest.raises(RemoteError, match="not a usable CT series: missing slices: a gap of 4.00 mm"):
        pull(client, STUDY_UID, output)
    assert leftovers(tmp_path) == ["incomplete", "orthanc"]


def load_position(path: Path) -> float:
    import pydicom

    return float(pydicom.dcmread(path, stop_before_pixels=True).ImagePositionPatient[2])


def test_transient_5xx_is_retried_until_it_passes(orthanc, stored_study, tmp_path):
    from fault_proxy import FaultProxy

    proxy = FaultProxy(orthanc.base_url)
    try:
        waits: list[float] = []
        client = client_for(proxy.url + "/dicom-web", sleep=waits.append)
        proxy.fail_next(2, 503)
        result = pull(client, stored_study, tmp_path / "out")
        assert result.instances_per_series == {SERIES_UID: 20}
        assert waits == [0.05, 0.1]
        assert [status for _, _, status in proxy.requests_seen[:3]] == [503, 503, 200]

        proxy.fail_next(10, 500)
        with pytest.raises(RemoteError, match=r"server error \(HTTP 500\): injected fault 500 \(gave up after 3 attempts\)"):
            client.search_studies()
    finally:
        proxy.stop()


def test_bearer_token_from_environment(orthanc, stored_study, monkeypatch, capsys):
    from fault_proxy import FaultProxy

    proxy = FaultProxy(orthanc.base_url, upstream_auth=(ORTHANC_USER, ORTHANC_PASSWORD), bearer_token="tok-9f8e7d")
    try:
        monkeypatch.delenv("SURGICAL_PLANNER_PACS_USER", raising=False)
        monkeypatch.delenv("SURGICAL_PLANNER_PACS_PASSWORD", raising=False)
        monkeypatch.setenv("SURGICAL_PLANNER_PACS_TOKEN", "tok-9f8e7d")
        assert main(["pacs", "search", proxy.url + "/dicom-web", "--json"]) == 0
        assert STUDY_UID in capsys.readouterr().out
        monkeypatch.setenv("SURGICAL_PLANNER_PACS_TOKEN", "expired-token")
        assert main(["pacs", "search", proxy.url + "/dicom-web"]) == 3
        error = capsys.readouterr().err
        assert "authentication failed (HTTP 401)" in error and "expired-token" not in error
    finally:
        proxy.stop()


def test_credentials_file_must_be_private(orthanc, stored_study, tmp_path, monkeypatch, capsys):
    for name in ("USER", "PASSWORD", "TOKEN"):
        monkeypatch.delenv(f"SURGICAL_PLANNER_PACS_{name}", raising=False)
    config = tmp_path / "pacs.json"
    config.write_text(f'{{"username": "{ORTHANC_USER}", "password": "{ORTHANC_PASSWORD}"}}')
    config.chmod(0o644)
    assert main(["pacs", "search", orthanc.dicomweb_url, "--config", str(config)]) == 3
    assert "readable by others" in capsys.readouterr().err
    config.chmod(0o600)
    assert main(["pacs", "search", orthanc.dicomweb_url, "--config", str(config)]) == 0
    assert "1 study" in capsys.readouterr().out


def test_credentials_in_the_url_are_refused():
    with pytest.raises(RemoteError, match="credentials must not be written into the URL") as caught:
        PacsClient(f"http://user:{ORTHANC_PASSWORD}@127.0.0.1:1/dicom-web")
    assert ORTHANC_PASSWORD not in str(caught.value)


def test_transfers_are_audited_without_patient_identity(orthanc, ct_series_with_uids, pacs_credentials, tmp_path,
                                                        monkeypatch, capsys):
    import json

    log = tmp_path / "audit" / "audit.jsonl"
    monkeypatch.delenv("SURGICAL_PLANNER_AUDIT_LOG", raising=False)
    assert main(["pacs", "push", orthanc.dicomweb_url, str(ct_series_with_uids), "--audit", str(log)]) == 0
    monkeypatch.setenv("SURGICAL_PLANNER_AUDIT_LOG", str(log))  # the default when --audit is not given
    assert main(["pacs", "pull", orthanc.dicomweb_url, "--study", STUDY_UID, "--output", str(tmp_path / "ct")]) == 0
    monkeypatch.delenv("SURGICAL_PLANNER_AUDIT_LOG")
    assert main(["pacs", "pull", orthanc.dicomweb_url, "--study", STUDY_UID, "--output", str(tmp_path / "ct2")]) == 0

    events = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(e["event"], e["actor"]) for e in events] == [("pacs_push", "surgical-planner pacs push"),
                                                          ("pacs_pull", "surgical-planner pacs pull")]
    assert events[0]["details"] == {"studies": [STUDY_UID], "instances": 20}
    assert events[1]["details"] == {"study": STUDY_UID, "series": {SERIES_UID: 20}, "instances": 20}
    assert not [value for value in SOURCE_PHI.values() if value in log.read_text()]
    capsys.readouterr()
    assert main(["audit", "verify", str(log)]) == 0
