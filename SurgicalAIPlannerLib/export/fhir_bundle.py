"""The plan as a FHIR R4 transaction Bundle (``fhir.resources`` R4B models, which match R4 for these resources).

Resources: Patient (only a pseudonymous identifier when de-identified), Endpoint (the DICOMweb service)
and ImagingStudy, ServiceRequest (the planned procedure; ``draft`` until signed), one Observation per
measurement (UCUM quantities; ``preliminary`` until signed), DocumentReference (the PDF report), Device
(software and model versions), Practitioner (the signing surgeon) and Provenance tying them together.
Entries reference each other by ``urn:uuid`` full URLs, which the server resolves in the transaction.
"""

from __future__ import annotations

import base64
import hashlib
import math
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone

from fhir.resources.R4B.bundle import Bundle

from .codes import UCUM_SYSTEM, measurement_coding
from .plan_summary import PlanSummary

DICOM_UID_SYSTEM = "urn:dicom:uid"
DCM_SYSTEM = "http://dicom.nema.org/resources/ontology/DCM"
PSEUDONYM_SYSTEM = "urn:surgical-planner:pseudonym"
DATA_ABSENT = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
PARTICIPANT_TYPE = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"


@dataclass(frozen=True)
class ImagingContext:
    """The study the plan was made on; identifiers already pseudonymised when the export is de-identified."""

    patient_id: str
    patient_id_system: str
    patient_name: str
    study_uid: str
    series_uid: str
    modality: str
    instances: int
    dicomweb_url: str


@dataclass(frozen=True)
class ReportDocument:
    pdf: bytes
    title: str


def _urn() -> str:
    return f"urn:uuid:{uuid.uuid4()}"


def _entry(full_url: str, resource: dict) -> dict:
    return {"fullUrl": full_url, "resource": resource, "request": {"method": "POST", "url": resource["resourceType"]}}


def build_transaction(plan: PlanSummary, imaging: ImagingContext, report: ReportDocument | None = None,
                      deidentified: bool = False) -> Bundle:
    ids = {name: _urn() for name in ("patient", "endpoint", "study", "request", "document", "device", "surgeon")}
    subject = {"reference": ids["patient"]}
    entries = [
        _entry(ids["patient"], _patient(imaging, deidentified)),
        _entry(ids["endpoint"], _endpoint(imaging)),
        _entry(ids["study"], _imaging_study(imaging, subject, ids["endpoint"])),
        _entry(ids["request"], _service_request(plan, subject)),
        _entry(ids["device"], _device(plan)),
    ]
    observations = [(_urn(), _observation(plan, m, subject, ids)) for m in plan.measurements]
    entries += [_entry(url, resource) for url, resource in observations]
    if report is not None:
        entries.append(_entry(ids["document"], _document(plan, report, subject, ids)))
    if plan.sign_off is not None:
        entries.append(_entry(ids["surgeon"], {"resourceType": "Practitioner", "name": [{"text": plan.sign_off.surgeon}]}))
    targets = [entry["fullUrl"] for entry in entries if entry["resource"]["resourceType"] not in ("Device", "Practitioner", "Endpoint")]
    entries.append(_entry(_urn(), _provenance(plan, targets, ids)))
    return Bundle.model_validate({"resourceType": "Bundle", "type": "transaction", "entry": entries})


def _patient(imaging: ImagingContext, deidentified: bool) -> dict:
    patient = {"resourceType": "Patient",
               "identifier": [{"system": PSEUDONYM_SYSTEM if deidentified else imaging.patient_id_system,
                               "value": imaging.patient_id}]}
    if not deidentified and imaging.patient_name:
        family, _, given = imaging.patient_name.partition("^")
        patient["name"] = [{"family": family, "given": [g for g in given.split("^") if g]}]
    return patient


def _endpoint(imaging: ImagingContext) -> dict:
    return {"resourceType": "Endpoint", "status": "active", "address": imaging.dicomweb_url,
            "connectionType": {"system": "http://terminology.hl7.org/CodeSystem/endpoint-connection-type",
                               "code": "dicom-wado-rs"},
            "payloadType": [{"text": "DICOM"}], "payloadMimeType": ["application/dicom"]}


def _imaging_study(imaging: ImagingContext, subject: dict, endpoint: str) -> dict:
    return {"resourceType": "ImagingStudy", "status": "available", "subject": subject,
            "identifier": [{"system": DICOM_UID_SYSTEM, "value": f"urn:oid:{imaging.study_uid}"}],
            "endpoint": [{"reference": endpoint}], "numberOfSeries": 1, "numberOfInstances": imaging.instances,
            "series": [{"uid": imaging.series_uid, "numberOfInstances": imaging.instances,
                        "modality": {"system": DCM_SYSTEM, "code": imaging.modality}}]}


def _service_request(plan: PlanSummary, subject: dict) -> dict:
    code = {"text": f"{plan.procedure}, {plan.side} side" if plan.side else plan.procedure}
    if plan.procedure_code:
        code["coding"] = [plan.procedure_code.__dict__]
    return {"resourceType": "ServiceRequest", "status": "active" if plan.sign_off else "draft", "intent": "plan",
            "subject": subject, "code": code, "authoredOn": plan.created or None,
            "identifier": [{"system": "urn:surgical-planner:plan", "value": plan.plan_id}],
            "note": [{"text": f"Request: {plan.request_text}"}] if plan.request_text else None}


def _observation(plan: PlanSummary, measurement, subject: dict, ids: dict) -> dict:
    observation = {"resourceType": "Observation", "status": "final" if plan.sign_off else "preliminary",
                   "code": {"coding": [measurement_coding(measurement).__dict__], "text": measurement.label},
                   "subject": subject, "basedOn": [{"reference": ids["request"]}],
                   "derivedFrom": [{"reference": ids["study"]}]}
    if math.isnan(measurement.value):
        observation["dataAbsentReason"] = {"coding": [{"system": DATA_ABSENT, "code": "not-performed"}]}
    else:
        observation["valueQuantity"] = {"value": round(float(measurement.value), 6), "unit": measurement.unit,
                                        "system": UCUM_SYSTEM, "code": measurement.unit}
    notes = [text for text in (f"target {measurement.target}" if measurement.target else "",
                               f"status {measurement.status}", f"side {measurement.side}" if measurement.side else "",
                               measurement.note) if text]
    observation["note"] = [{"text": "; ".join(notes)}]
    return observation


def _document(plan: PlanSummary, report: ReportDocument, subject: dict, ids: dict) -> dict:
    return {"resourceType": "DocumentReference", "status": "current",
            "docStatus": "final" if plan.sign_off else "preliminary", "subject": subject,
            "type": {"text": "Surgical planning report"}, "description": report.title,
            "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "context": {"related": [{"reference": ids["request"]}, {"reference": ids["study"]}]},
            "content": [{"attachment": {"contentType": "application/pdf", "title": report.title,
                                        "data": base64.b64encode(report.pdf).decode(), "size": len(report.pdf),
                                        "hash": base64.b64encode(hashlib.sha1(report.pdf).digest()).decode()}}]}


def _device(plan: PlanSummary) -> dict:
    return {"resourceType": "Device", "deviceName": [{"name": plan.software, "type": "user-friendly-name"}],
            "version": [{"type": {"text": model.name}, "value": model.version} for model in plan.models]}


def _provenance(plan: PlanSummary, targets: list[str], ids: dict) -> dict:
    agents = [{"type": {"coding": [{"system": PARTICIPANT_TYPE, "code": "assembler"}]},
               "who": {"reference": ids["device"], "display": plan.software}}]
    if plan.sign_off is not None:
        agents.append({"type": {"coding": [{"system": PARTICIPANT_TYPE, "code": "verifier"}]},
                       "who": {"reference": ids["surgeon"], "display": plan.sign_off.surgeon}})
    return {"resourceType": "Provenance", "target": [{"reference": t} for t in targets],
            "recorded": datetime.now(timezone.utc).isoformat(timespec="seconds"), "agent": agents,
            "activity": {"text": "signed surgical plan" if plan.sign_off else "DRAFT surgical plan, not signed"}}
