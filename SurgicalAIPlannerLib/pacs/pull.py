"""WADO-RS pull of a study or series into a folder that appears only when complete and loadable.

Instances are fetched one by one into a hidden temporary folder beside the output; the pull checks
that every instance the PACS lists arrived (and as many as QIDO's count says), loads the CT from
it, and only then renames the folder into place. Any fault removes the temporary folder.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

from ..atomic import staged_folder
from ..imaging import ImageLoadError, Volume, load_ct
from .client import PacsClient, SeriesSummary
from .remote import RemoteError, redact

log = logging.getLogger(__name__)

# Called after each instance is written: (instances done, instances in total).
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class PullResult:
    output: Path
    instances_per_series: dict[str, int]
    volume: Volume


def pull(client: PacsClient, study_uid: str, output: Path | str, series_uid: str | None = None,
         on_instance: Progress | None = None) -> PullResult:
    """Pull ``series_uid`` (or every series of the study) into ``output`` and load the CT from it."""
    output = Path(output)
    if output.exists():
        raise FileExistsError(f"{output}: already exists; a pull writes a new folder and never overwrites")
    chosen = _choose_series(client, study_uid, series_uid)
    with staged_folder(output) as partial:
        total = sum(s.instance_count or 0 for s in chosen)
        counts: dict[str, int] = {}
        for series in chosen:
            done = sum(counts.values())
            report = (lambda n, done=done: on_instance(done + n, total)) if on_instance else None
            counts[series.series_instance_uid] = _pull_series(client, study_uid, series, partial, report)
        volume = _load(client, partial, series_uid)
    log.info("Pulled %d instance(s) of study %s into %s", sum(counts.values()), study_uid, output)
    return PullResult(output, counts, replace(volume, source=output))


def _choose_series(client: PacsClient, study_uid: str, series_uid: str | None) -> list[SeriesSummary]:
    series = client.search_series(study_uid)
    if not series:
        raise RemoteError(redact(client.url), f"study {study_uid} was not found (QIDO-RS lists no series for it)")
    if series_uid is None:
        return series
    chosen = [s for s in series if s.series_instance_uid == series_uid]
    if not chosen:
        listed = ", ".join(f"{s.series_instance_uid} ({s.modality})" for s in series)
        raise RemoteError(redact(client.url), f"study {study_uid} has no series {series_uid}; it has: {listed}")
    return chosen


def _pull_series(client: PacsClient, study_uid: str, series: SeriesSummary, folder: Path,
                 report: Callable[[int], None] | None) -> int:
    uid = series.series_instance_uid
    sop_uids = client.list_instances(study_uid, uid)
    if series.instance_count is not None and len(sop_uids) != series.instance_count:
        raise RemoteError(redact(client.url), f"series {uid} is incomplete: the PACS counts {series.instance_count} "
                                              f"instances but lists {len(sop_uids)}")
    target = folder / uid
    target.mkdir()
    for index, sop_uid in enumerate(sop_uids, start=1):
        dataset = client.retrieve_instance(study_uid, uid, sop_uid)
        if str(dataset.get("SOPInstanceUID", "")) != sop_uid:
            raise RemoteError(redact(client.url), f"asked for instance {sop_uid}, received "
                                                  f"{dataset.get('SOPInstanceUID', 'one without a SOPInstanceUID')}")
        dataset.save_as(target / f"{sop_uid}.dcm", enforce_file_format=True)
        if report:
            report(index)
    written = len(list(target.glob("*.dcm")))
    if written != len(sop_uids):
        raise RemoteError(redact(client.url), f"series {uid} is incomplete: {written} of {len(sop_uids)} instances arrived")
    return written


def _load(client: PacsClient, folder: Path, series_uid: str | None) -> Volume:
    try:
        return load_ct(folder, series_uid)
    except ImageLoadError as error:
        raise RemoteError(redact(client.url), f"the pulled data is not a usable CT series: {error.problem}") from None
