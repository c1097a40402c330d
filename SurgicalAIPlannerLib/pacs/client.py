"""DICOMweb client (QIDO-RS search, WADO-RS retrieve, STOW-RS store) with our auth, retries and errors.

Built on ``dicomweb-client``; its own retrying is switched off so that one policy (``remote.py``)
governs every call, including connection faults it would not retry.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, TypeVar

import pydicom
from dicomweb_client.api import DICOMwebClient

from .credentials import Credentials, load_credentials
from .remote import RemoteError, RetryPolicy, call_with_retries, check_url, new_session, redact

log = logging.getLogger(__name__)
T = TypeVar("T")
# dicomweb-client's retry helper logs every failed attempt with a traceback; our policy logs one line.
logging.getLogger("retrying").setLevel(logging.ERROR)

# Ask for the transfer syntax the PACS stores, so it neither transcodes nor alters pixels.
ORIGINAL_TRANSFER_SYNTAX = (("application/dicom", "*"),)
QIDO_PAGE_SIZE = 500
# Credentials come from SURGICAL_PLANNER_PACS_USER/_PASSWORD, _TOKEN or the file named by _CONFIG.
ENV_PREFIX = "SURGICAL_PLANNER_PACS"


@dataclass(frozen=True)
class StudySummary:
    study_instance_uid: str
    patient_id: str
    patient_name: str
    study_date: str
    modalities: tuple[str, ...]
    description: str
    series_count: int | None


@dataclass(frozen=True)
class SeriesSummary:
    series_instance_uid: str
    modality: str
    description: str
    instance_count: int | None


class PacsClient:
    def __init__(self, url: str, credentials: Credentials | None = None, ca_bundle: Path | str | None = None,
                 timeout_s: float = 30.0, retry: RetryPolicy = RetryPolicy(),
                 sleep: Callable[[float], None] | None = None) -> None:
        self.url = check_url(url).rstrip("/")
        self.retry = retry
        self._sleep = sleep
        self._client = DICOMwebClient(self.url, session=new_session(credentials, ca_bundle), timeout=timeout_s)
        self._client.set_http_retry_params(retry=False)
        log.info("PACS %s (%s authentication, TLS verification on)", redact(self.url),
                 credentials.scheme if credentials else "no")

    def _call(self, what: str, action: Callable[[], T]) -> T:
        extra = {"sleep": self._sleep} if self._sleep else {}
        return call_with_retries(action, self.url, what, self.retry, **extra)

    def _paged(self, what: str, uid_tag: str, fetch_page: Callable[[int], list[dict]]) -> list[dict]:
        """All QIDO-RS results, page by page. Some servers (Orthanc with ModalitiesInStudy, for one) ignore
        ``offset``; a page that brings no new UID ends the loop instead of repeating it forever."""
        results: dict[str, dict] = {}
        while True:
            page = self._call(what, lambda: fetch_page(len(results)))
            new = {item[uid_tag]["Value"][0]: item for item in page if item[uid_tag]["Value"][0] not in results}
            results.update(new)
            if len(page) < QIDO_PAGE_SIZE or not new:
                return list(results.values())

    def search_studies(self, patient_id: str | None = None, study_date: str | None = None,
                       modality: str | None = None) -> list[StudySummary]:
        filters = {k: v for k, v in {"PatientID": patient_id, "StudyDate": study_date,
                                      "ModalitiesInStudy": modality}.items() if v}
        fields = ["PatientName", "PatientID", "StudyDate", "ModalitiesInStudy", "StudyDescription",
                  "NumberOfStudyRelatedSeries"]
        found = self._paged("search studies (QIDO-RS)", "0020000D", lambda offset: self._client.search_for_studies(
            search_filters=filters, fields=fields, offset=offset, limit=QIDO_PAGE_SIZE))
        return [_study_summary(pydicom.Dataset.from_json(item)) for item in found]

    def search_series(self, study_uid: str, modality: str | None = None) -> list[SeriesSummary]:
        filters = {"Modality": modality} if modality else {}
        found = self._paged(f"search series of study {study_uid} (QIDO-RS)", "0020000E",
                            lambda offset: self._client.search_for_series(
                                study_instance_uid=study_uid, search_filters=filters, offset=offset,
                                limit=QIDO_PAGE_SIZE,
                                fields=["Modality", "SeriesDescription", "NumberOfSeriesRelatedInstances"]))
        return [_series_summary(pydicom.Dataset.from_json(item)) for item in found]

    def list_instances(self, study_uid: str, series_uid: str) -> list[str]:
        """SOPInstanceUIDs of a series, as the PACS lists them."""
        found = self._paged(f"list instances of series {series_uid} (QIDO-RS)", "00080018",
                            lambda offset: self._client.search_for_instances(
                                study_instance_uid=study_uid, series_instance_uid=series_uid, offset=offset,
                                limit=QIDO_PAGE_SIZE))
        return [str(pydicom.Dataset.from_json(item).SOPInstanceUID) for item in found]

    def retrieve_instance(self, study_uid: str, series_uid: str, sop_uid: str) -> pydicom.Dataset:
        return self._call(f"retrieve instance {sop_uid} (WADO-RS)", lambda: self._client.retrieve_instance(
            study_uid, series_uid, sop_uid, media_types=ORIGINAL_TRANSFER_SYNTAX))

    def store(self, datasets: list[pydicom.Dataset]) -> pydicom.Dataset:
        """STOW-RS; raises RemoteError naming every instance the PACS refused."""
        response = self._call(f"store {len(datasets)} instance(s) (STOW-RS)",
                              lambda: self._client.store_instances(datasets))
        failed = list(getattr(response, "FailedSOPSequence", []))
        if failed:
            reasons = ", ".join(f"{item.ReferencedSOPInstanceUID} (reason {item.get('FailureReason', '?')})"
                                for item in failed)
            raise RemoteError(redact(self.url), f"the PACS refused {len(failed)} of {len(datasets)} instance(s): {reasons}")
        return response


def connect_pacs(url: str, config_path: Path | str | None = None, ca_bundle: Path | str | None = None,
                 timeout_s: float = 30.0, retry: RetryPolicy = RetryPolicy()) -> PacsClient:
    """A client for ``url`` with the configured credentials (environment first, then the config file)."""
    return PacsClient(url, load_credentials(ENV_PREFIX, config_path), ca_bundle, timeout_s, retry)


def _text(dataset: pydicom.Dataset, keyword: str) -> str:
    return str(dataset.get(keyword, "") or "")


def _count(dataset: pydicom.Dataset, keyword: str) -> int | None:
    value = dataset.get(keyword)
    return int(value) if value not in (None, "") else None


def _study_summary(dataset: pydicom.Dataset) -> StudySummary:
    modalities = dataset.get("ModalitiesInStudy") or []
    modalities = [modalities] if isinstance(modalities, str) else list(modalities)
    return StudySummary(
        study_instance_uid=_text(dataset, "StudyInstanceUID"),
        patient_id=_text(dataset, "PatientID"),
        patient_name=_text(dataset, "PatientName"),
        study_date=_text(dataset, "StudyDate"),
        modalities=tuple(str(m) for m in modalities),
        description=_text(dataset, "StudyDescription"),
        series_count=_count(dataset, "NumberOfStudyRelatedSeries"),
    )


def _series_summary(dataset: pydicom.Dataset) -> SeriesSummary:
    return SeriesSummary(
        series_instance_uid=_text(dataset, "SeriesInstanceUID"),
        modality=_text(dataset, "Modality"),
        description=_text(dataset, "SeriesDescription"),
        instance_count=_count(dataset, "NumberOfSeriesRelatedInstances"),
    )
