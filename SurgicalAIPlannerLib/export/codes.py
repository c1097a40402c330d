"""Code systems as DICOM and FHIR name them, and the project's local code system.

Measurements without a standard code (most planning figures: no LOINC or SNOMED CT concept exists for
"planned cup inclination") use the local system ``LOCAL_SYSTEM`` with the measurement key as code; it is
documented in docs/integration.md. DICOM calls it ``99SURGPLAN`` (private designators start with 99).
"""

from __future__ import annotations

from highdicom.sr import CodedConcept

from ..planning.measurement import Coding, Measurement
from ..planning.tha_metrics import LOCAL_CODE_SYSTEM as LOCAL_SYSTEM
DICOM_DESIGNATORS = {
    "http://snomed.info/sct": "SCT",
    "http://loinc.org": "LN",
    "http://unitsofmeasure.org": "UCUM",
    "http://dicom.nema.org/resources/ontology/DCM": "DCM",
    LOCAL_SYSTEM: "99SURGPLAN",
}
UCUM_SYSTEM = "http://unitsofmeasure.org"
UNIT_MEANINGS = {"deg": "degree", "mm": "millimeter", "%": "percent", "1": "no units", "mm2": "square millimeter"}


def measurement_coding(measurement: Measurement) -> Coding:
    return measurement.code or Coding(LOCAL_SYSTEM, measurement.key, measurement.label)


def dicom_concept(coding: Coding) -> CodedConcept:
    designator = DICOM_DESIGNATORS.get(coding.system)
    if designator is None:
        raise ValueError(f"code system {coding.system!r} has no DICOM coding scheme designator here; "
                         f"known: {', '.join(DICOM_DESIGNATORS)}")
    # Short string: DICOM Code Meaning is LO (64 characters).
    return CodedConcept(coding.code, designator, coding.display[:64])


def ucum_concept(unit: str) -> CodedConcept:
    return CodedConcept(unit, "UCUM", UNIT_MEANINGS.get(unit, unit))
