"""De-identification following DICOM PS3.15 Annex E, Basic Application Level Confidentiality Profile.

The attribute actions (D, Z, X, U, and the combined ones) come from the standard's table as packaged
by ``dicom-anonymizer`` (edition 2026c). On top of it:
- UIDs are replaced by keyed, deterministic UIDs (2.25.<digest>) everywhere, nested sequences included,
  so the SEG/SR/FHIR of one export still reference each other and the same key maps the same study to
  the same pseudonymous study across exports;
- Patient Name and Patient ID become one pseudonym derived from the key, not a fixed dummy, so
  de-identified exports of one patient can still be grouped;
- private attributes are removed; Patient Identity Removed and the method code are recorded.

The key comes from ``SURGICAL_PLANNER_DEID_KEY``; without it a random key is used for the run and the
pseudonyms cannot be linked to other runs (the safer default).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

import pydicom
from dicomanonymizer.dicomfields_selector import dicom_anonymization_database_selector
from dicomanonymizer.simpledicomanonymizer import anonymize_dataset, initialize_actions, keep
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.sequence import Sequence

from ..atomic import staged_folder

KEY_ENVIRONMENT = "SURGICAL_PLANNER_DEID_KEY"
STANDARD_EDITION = "dicomfields_2026c"
# De-identification Method is LO (64 characters at most).
METHOD = "PS3.15 Basic Profile; keyed pseudonyms and UIDs"
DICOM_ROOT = "1.2.840.10008."
PATIENT_NAME, PATIENT_ID = (0x0010, 0x0010), (0x0010, 0x0020)


@dataclass
class Pseudonymizer:
    """Keyed mapping of identifiers to pseudonyms; one instance per export keeps it consistent."""

    key: bytes = field(repr=False)
    uids: dict[str, str] = field(default_factory=dict, repr=False)

    @classmethod
    def from_environment(cls) -> "Pseudonymizer":
        configured = os.environ.get(KEY_ENVIRONMENT, "")
        return cls(configured.encode() if configured else secrets.token_bytes(32))

    def _digest(self, kind: str, value: str) -> str:
        return hmac.new(self.key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()

    def patient(self, patient_id: str) -> str:
        """The pseudonym that stands for a patient in every de-identified output."""
        return "PSN-" + self._digest("patient", patient_id)[:12].upper()

    def uid(self, original: str) -> str:
        if original not in self.uids:
            # 2.25.<128-bit integer> is the UUID-derived UID form (PS3.5 B.2); here the 128 bits are keyed.
            self.uids[original] = "2.25." + str(int(self._digest("uid", original)[:32], 16))
        return self.uids[original]


def is_instance_uid(value: str) -> bool:
    """True for UIDs that identify data (study, series, instance, frame...), False for the ones DICOM
    registers under its own root (SOP classes, transfer syntaxes), which carry no identity and must stay."""
    return bool(value) and not value.startswith(DICOM_ROOT)


def deidentify_dataset(dataset: Dataset, pseudonymizer: Pseudonymizer) -> Dataset:
    """De-identify ``dataset`` in place (header only; burned-in pixel text is not handled) and return it."""
    pseudonym = pseudonymizer.patient(str(dataset.get("PatientID", "") or dataset.get("PatientName", "") or ""))
    _replace_uids(dataset, pseudonymizer)
    if "MediaStorageSOPInstanceUID" in getattr(dataset, "file_meta", {}):
        dataset.file_meta.MediaStorageSOPInstanceUID = dataset.SOPInstanceUID
    anonymize_dataset(dataset, _rules(pseudonym), delete_private_tags=True,
                      base_rules_gen=lambda: initialize_actions(STANDARD_EDITION))
    dataset.PatientIdentityRemoved = "YES"
    dataset.DeidentificationMethod = METHOD
    method_code = Dataset()
    method_code.CodeValue, method_code.CodingSchemeDesignator = "113100", "DCM"
    method_code.CodeMeaning = "Basic Application Confidentiality Profile"
    dataset.DeidentificationMethodCodeSequence = Sequence([method_code])
    return dataset


def _rules(pseudonym: str) -> dict:
    def set_pseudonym(dataset: Dataset, tag: tuple[int, int]) -> None:
        # A one-component person name carries a trailing caret (PS3.5 6.2.1): the pseudonym is no family name.
        value = f"{pseudonym}^" if tag == PATIENT_NAME else pseudonym
        setattr(dataset, pydicom.datadict.keyword_for_tag(tag), value)

    # UIDs were already replaced (consistently, nested ones too), so the table's U actions must not redo it.
    uid_tags = dicom_anonymization_database_selector(STANDARD_EDITION)["U_TAGS"]
    return {**{tag: keep for tag in uid_tags}, PATIENT_NAME: set_pseudonym, PATIENT_ID: set_pseudonym}


def _replace_uids(dataset: Dataset, pseudonymizer: Pseudonymizer) -> None:
    for element in dataset:
        if element.VR == "SQ":
            for item in element.value:
                _replace_uids(item, pseudonymizer)
        elif element.VR == "UI" and element.value:
            values = element.value if isinstance(element.value, list | pydicom.multival.MultiValue) else [element.value]
            mapped = [pseudonymizer.uid(v) if is_instance_uid(str(v)) else v for v in values]
            element.value = mapped if len(mapped) > 1 else mapped[0]


def deidentify_folder(source: Path, target: Path, pseudonymizer: Pseudonymizer) -> list[Path]:
    """De-identified copies of every DICOM file under ``source`` in the new folder ``target`` (atomic);
    files are named by their new SOP Instance UID, since original names often carry identifiers."""
    files = sorted(p for p in source.rglob("*") if p.is_file() and not p.name.startswith("."))
    if not files:
        raise FileNotFoundError(f"{source}: no files to de-identify")
    written = []
    with staged_folder(target) as partial:
        for path in files:
            try:
                dataset = pydicom.dcmread(path)
            except InvalidDicomError:
                raise ValueError(f"{path}: not a DICOM file; nothing was written") from None
            deidentify_dataset(dataset, pseudonymizer)
            name = f"{dataset.SOPInstanceUID}.dcm"
            dataset.save_as(partial / name, enforce_file_format=True)
            written.append(target / name)
    return written
