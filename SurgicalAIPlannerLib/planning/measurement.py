"""A plan's measurement, as shown in the metrics table and exported to DICOM SR and FHIR."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Status = Literal["ok", "warning", "violation", "info"]


@dataclass(frozen=True)
class Coding:
    """A code from a terminology (SNOMED CT, LOINC, UCUM, or the project's documented local system)."""

    system: str
    code: str
    display: str


@dataclass(frozen=True)
class Measurement:
    """One figure of a plan. ``unit`` is UCUM ("deg", "mm", "%", "1"); ``side`` is the patient's side or ""."""

    key: str
    label: str
    value: float
    unit: str
    target: str = ""
    status: Status = "info"
    side: str = ""
    code: Coding | None = None
    note: str = ""
