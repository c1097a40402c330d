"""The page's PACS: search the configured DICOMweb server and pull a study in the background.

The server is the one ``surgical-planner serve --pacs-url`` names; credentials come from the serve process's
environment or config file (``pacs.connect_pacs``), never from the page. A pull writes a new folder under the
session's folder, which appears only when complete; cancel stops it and leaves nothing behind.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from ..pacs import RemoteError, connect_pacs
from ..pacs.credentials import CredentialsError
from ..session import PlannerSession
from .background import PageTask


class PacsController:
    def __init__(self, server, pacs_url: str, pulls_dir: Path, session_of: Callable[[], PlannerSession],
                 new_session: Callable[[], PlannerSession], on_loaded: Callable[[str], None]) -> None:
        self.state = server.state
        self.pacs_url = pacs_url
        self.pulls_dir = pulls_dir
        self.session_of = session_of
        self.new_session = new_session  # a pulled study replaces the case: a fresh scene and session
        self.on_loaded = on_loaded
        self.run = PageTask(self.state, "pacs", "PACS pull")
        self.state.update({"pacs_url": pacs_url, "pacs_patient_id": "", "pacs_study_date": "", "pacs_studies": []})
        server.trigger("pacs_search")(self.search)
        server.trigger("pacs_pull")(self.pull)
        server.trigger("cancel_pacs_pull")(self.run.cancel)

    def search(self) -> None:
        try:
            studies = self.session_of().search_pacs(connect_pacs(self.pacs_url), self.state.pacs_patient_id,
                                                 self.state.pacs_study_date)
        except (RemoteError, CredentialsError, ValueError) as error:
            self.state.update({"pacs_error": str(error), "pacs_studies": []})
            return
        self.state.pacs_error = ""
        self.state.pacs_message = f"{len(studies)} CT stud{'y' if len(studies) == 1 else 'ies'} found"
        self.state.pacs_studies = [{"uid": s.study_instance_uid, "patient_id": s.patient_id, "date": s.study_date,
                                    "description": s.description or "—", "series": s.series_count}
                                   for s in studies]

    def pull(self, study_uid: str) -> None:
        client, session = connect_pacs(self.pacs_url), self.session_of()
        folder = self.pulls_dir / f"pacs-{time.strftime('%Y%m%d-%H%M%S')}"

        def work(progress):
            report = lambda done, total: progress(done / max(total, 1), f"{done} of {total} instances")
            return session.run_pull(client, study_uid, folder, None, report)

        self.run.start(work, lambda result: self._use(result, client.url))

    def _use(self, result, dicomweb_url: str) -> str:
        self.new_session().use_pulled_ct(result, dicomweb_url)
        identity = result.volume.identity
        self.on_loaded(f"PACS: {identity.series_description or 'CT'} ({identity.study_date or 'no date'})")
        return f"pulled {sum(result.instances_per_series.values())} instances"
