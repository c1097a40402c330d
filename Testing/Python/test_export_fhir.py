"""FHIR R4 transaction posted to a real loopback server (Medplum FHIR router, R4 validation on) and read back."""

from __future__ import annotations

import math

import pytest
import requests

from export_fixtures import MEASUREMENTS, make_plan
from integration_fixtures import fhir_server  # noqa: F401
from SurgicalAIPlannerLib.export.fhir_bundle import ImagingContext, ReportDocument, build_transaction
from SurgicalAIPlannerLib.export.fhir_client import post_transaction
from SurgicalAIPlannerLib.pacs import RemoteError, RetryPolicy

IMAGING = ImagingContext(patient_id="SPL-PID-48213", patient_id_system="urn:oid:2.16.756.5.30.1.149.1.2.1.1",
                         patient_name="Probandin^Erika^Maria", study_uid="1.2.826.0.1.3680043.8.498.1",
                         series_uid="1.2.826.0.1.3680043.8.498.2", modality="CT", instances=20,
                         dicomweb_url="https://pacs.example.org/dicom-web")
PDF = b"%PDF-1.7\n% a small stand-in is enough for the transport; the report tests check real PDFs\n%%EOF\n"


def search(server, query: str) -> list[dict]:
    answer = requests.get(f"{server.base_url}/{query}", timeout=30)
    assert answer.status_code == 200, answer.text
    return [entry["resource"] for entry in answer.json().get("entry", [])]


@pytest.mark.parametrize("signed", [False, True])
def test_transaction_is_stored_and_found_by_search(fhir_server, signed):
    plan = make_plan(signed)
    plan_id = f"plan-{'signed' if signed else 'draft'}"
    plan = plan.__class__(**{**plan.__dict__, "plan_id": plan_id})
    answer = post_transaction(fhir_server.base_url, build_transaction(plan, IMAGING, ReportDocument(PDF, "Plan report")))
    assert {entry["response"]["status"][:3] for entry in answer["entry"]} == {"201"}

    request, = search(fhir_server, f"ServiceRequest?identifier=urn:surgical-planner:plan|{plan_id}")
    assert request["status"] == ("active" if signed else "draft") and request["intent"] == "plan"
    assert request["code"]["coding"][0] == {"system": "http://snomed.info/sct", "code": "52734007",
                                            "display": "Total hip replacement"}
    patient_ref = request["subject"]["reference"]
    patient = search(fhir_server, f"Patient?_id={patient_ref.split('/')[1]}")[0]
    assert patient["identifier"][0]["value"] == IMAGING.patient_id and patient["name"][0]["family"] == "Probandin"

    observations = search(fhir_server, f"Observation?based-on=ServiceRequest/{request['id']}")
    assert len(observations) == len(MEASUREMENTS)
    by_code = {o["code"]["coding"][0]["code"]: o for o in observations}
    for m in MEASUREMENTS:
        observation = by_code[m.code.code if m.code else m.key]
        assert observation["status"] == ("final" if signed else "preliminary")
        if math.isnan(m.value):
            assert observation["dataAbsentReason"]["coding"][0]["code"] == "not-performed"
        else:
            quantity = observation["valueQuantity"]
            assert (quantity["value"], quantity["code"], quantity["system"]) == (m.value, m.unit, "http://unitsofmeasure.org")

    study, = search(fhir_server, f"ImagingStudy?subject={patient_ref}")
    assert study["identifier"][0]["value"] == f"urn:oid:{IMAGING.study_uid}"
    endpoint = search(fhir_server, f"Endpoint?_id={study['endpoint'][0]['reference'].split('/')[1]}")[0]
    assert endpoint["address"] == IMAGING.dicomweb_url

    document, = search(fhir_server, f"DocumentReference?subject={patient_ref}")
    assert document["docStatus"] == ("final" if signed else "preliminary")
    assert document["content"][0]["attachment"]["size"] == len(PDF)

    provenance, = search(fhir_server, f"Provenance?target=ServiceRequest/{request['id']}")
    roles = {a["type"]["coding"][0]["code"]: a["who"]["display"] for a in provenance["agent"]}
    assert roles["assembler"] == "SurgicalAIPlanner 0.1.0"
    assert roles.get("verifier") == ("Dr. Anna Weber" if signed else None)
    device = search(fhir_server, f"Device?_id={provenance['agent'][0]['who']['reference'].split('/')[1]}")[0]
    assert {v["type"]["text"]: v["value"] for v in device["version"]} == {"bone segmentation": "TotalSegmentator 2",
                                                                         "landmarks": "sphere-fit 1"}


def test_deidentified_bundle_carries_only_the_pseudonym(fhir_server):
    imaging = ImagingContext("PSN-0123456789AB", "", "", "2.25.1", "2.25.2", "CT", 20, "https://pacs.example.org/dicom-web")
    bundle = build_transaction(make_plan(False), imaging, deidentified=True)
    patient = bundle.entry[0].resource
    assert patient.name is None and patient.identifier[0].system == "urn:surgical-planner:pseudonym"
    post_transaction(fhir_server.base_url, bundle)
    assert search(fhir_server, "Patient?identifier=urn:surgical-planner:pseudonym|PSN-0123456789AB")


def test_server_rejects_an_invalid_resource_and_we_say_so(fhir_server):
    bundle = build_transaction(make_plan(False), IMAGING)
    observation = next(e.resource for e in bundle.entry if e.resource.get_resource_type() == "Observation")
    # Observation.status is required (1..1); bypass the model's own check to see what the server says.
    object.__setattr__(observation, "status", None)
    with pytest.raises(RemoteError, match=r"refused the transaction \(HTTP 400\): Bundle.entry\[5\].resource.status: Missing required property"):
        post_transaction(fhir_server.base_url, bundle, retry=RetryPolicy(attempts=1))


def test_unreachable_server_is_reported_after_retries():
    with pytest.raises(RemoteError, match=r"cannot connect.*gave up after 2 attempts"):
        post_transaction("http://127.0.0.1:9/fhir/R4", build_transaction(make_plan(False), IMAGING),
                         retry=RetryPolicy(attempts=2, first_delay_s=0.01))
