"""The plan's measurements as a DICOM Comprehensive 3D SR following TID 1500 (Measurement Report).

One measurement group per plan, tracked by the plan id; each measurement has its concept name
(SNOMED CT / LOINC where the plan's code is standard, otherwise the local ``99SURGPLAN`` scheme) and
a UCUM unit. Sign-off maps onto the SR's own flags: a signed plan is COMPLETE and VERIFIED with the
surgeon as verifying observer; an unsigned one is PARTIAL and UNVERIFIED, i.e. a draft.
"""

from __future__ import annotations

import highdicom as hd
import pydicom
from pydicom.sr.codedict import codes

from .. import __version__
from ..planning.measurement import Coding
from .codes import LOCAL_SYSTEM, dicom_concept, measurement_coding, ucum_concept
from .dicom_seg import MANUFACTURER
from .plan_summary import PlanSummary

DEVICE_NAME = "SurgicalAIPlanner"


def build_measurement_report(plan: PlanSummary, source_images: list[pydicom.Dataset], verifying_organization: str = "",
                             series_number: int = 902) -> hd.sr.Comprehensive3DSR:
    measurements = [hd.sr.Measurement(name=dicom_concept(measurement_coding(m)), value=float(m.value),
                                      unit=ucum_concept(m.unit))
                    for m in plan.reportable_measurements]
    if not measurements:
        raise ValueError(f"plan {plan.plan_id} has no measured values to report")
    group = hd.sr.MeasurementsAndQualitativeEvaluations(
        tracking_identifier=hd.sr.TrackingIdentifier(uid=hd.UID(), identifier=f"plan {plan.plan_id}"),
        measurements=measurements,
        algorithm_id=hd.sr.AlgorithmIdentification(name=DEVICE_NAME, version=__version__))
    observer = hd.sr.ObserverContext(
        observer_type=codes.DCM.Device,
        observer_identifying_attributes=hd.sr.DeviceObserverIdentifyingAttributes(
            uid=hd.UID(), name=DEVICE_NAME, manufacturer_name=MANUFACTURER, model_name=plan.software))
    procedure = dicom_concept(plan.procedure_code or Coding(LOCAL_SYSTEM, plan.procedure, plan.procedure))
    report = hd.sr.MeasurementReport(observation_context=hd.sr.ObservationContext(observer_device_context=observer),
                                     procedure_reported=procedure, imaging_measurements=[group])
    signed = plan.sign_off is not None
    return hd.sr.Comprehensive3DSR(
        evidence=source_images, content=report[0], series_instance_uid=hd.UID(), series_number=series_number,
        sop_instance_uid=hd.UID(), instance_number=1, manufacturer=MANUFACTURER,
        is_complete=signed, is_verified=signed,
        # One-component person name (we do not split names); the trailing caret says so (PS3.5 6.2.1).
        verifying_observer_name=f"{plan.sign_off.surgeon}^" if signed else None,
        verifying_organization=(verifying_organization or "not stated") if signed else None,
        series_description=("Surgical plan measurements" if signed else "DRAFT surgical plan measurements (unsigned)"))
