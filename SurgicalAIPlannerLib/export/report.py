"""The plan report: one self-contained HTML file (pictures inlined) and the same document as PDF (WeasyPrint).

Sections: identity (or pseudonym), the request and how it was understood, 3D views of the plan, an axial
slice, the metrics table with warnings, the reasons for each automatic choice, models with their measured
accuracy, and the sign-off block. Unsigned plans carry DRAFT in the title and on every PDF page.
"""

from __future__ import annotations

import base64
import math
from dataclasses import dataclass
from html import escape
from pathlib import Path

from ..atomic import write_bytes_atomic, write_text_atomic
from .plan_summary import PlanSummary

STATUS_TEXT = {"ok": "OK", "warning": "WARNING", "violation": "OUT OF LIMIT", "info": ""}
PAGE_STYLE = """
@page {{ size: A4; margin: 14mm 14mm 16mm 14mm;
        @bottom-left {{ content: "{footer}"; font: 8pt "DejaVu Sans", sans-serif; color: #555; }}
        @bottom-right {{ content: "page " counter(page) " of " counter(pages); font: 8pt "DejaVu Sans", sans-serif; color: #555; }} }}
"""
STYLE = """
body { font-family: "DejaVu Sans", sans-serif; font-size: 9.5pt; color: #111; }
h1 { font-size: 16pt; margin: 0 0 4pt 0; } h2 { font-size: 12pt; margin: 12pt 0 4pt 0; border-bottom: 1px solid #999; }
.draft { color: #b00020; } .banner { border: 2px solid #b00020; color: #b00020; padding: 4pt 8pt; font-weight: bold; }
table { border-collapse: collapse; width: 100%; } td, th { border: 1px solid #bbb; padding: 2pt 4pt; text-align: left; vertical-align: top; }
th { background: #eee; } tr { page-break-inside: avoid; } td.num { text-align: right; white-space: nowrap; }
.s-ok { color: #1b5e20; } .s-warning { color: #b26a00; font-weight: bold; } .s-violation { color: #b00020; font-weight: bold; }
.views { display: flex; flex-wrap: wrap; gap: 6pt; } figure { margin: 0; width: 32%; } figure img { width: 100%; border: 1px solid #ccc; }
figcaption { font-size: 8pt; color: #444; } .signoff { border: 1px solid #333; padding: 6pt; margin-top: 8pt; page-break-inside: avoid; }
"""


@dataclass(frozen=True)
class ReportSubject:
    """Who and what the plan is about, as the report may show it (a pseudonym when de-identified)."""

    patient: str
    patient_id: str
    study_uid: str
    study_date: str
    series: str
    deidentified: bool


@dataclass(frozen=True)
class ReportPictures:
    views: dict[str, bytes]
    slice_png: bytes | None = None
    slice_caption: str = ""


def _image(png: bytes, caption: str) -> str:
    data = base64.b64encode(png).decode()
    return f'<figure><img src="data:image/png;base64,{data}" alt="{escape(caption)}"/><figcaption>{escape(caption)}</figcaption></figure>'


def _rows(pairs: list[tuple[str, str]]) -> str:
    return "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in pairs)


def _metrics(plan: PlanSummary) -> str:
    rows = []
    for m in plan.measurements:
        value = "not measured" if math.isnan(m.value) else f"{m.value:.1f} {m.unit}"
        rows.append(f'<tr><td>{escape(m.label)}</td><td>{escape(m.side)}</td><td class="num">{escape(value)}</td>'
                    f'<td>{escape(m.target)}</td><td class="s-{escape(m.status)}">{STATUS_TEXT.get(m.status, m.status)}</td>'
                    f"<td>{escape(m.note)}</td></tr>")
    head = "<tr><th>Measurement</th><th>Side</th><th>Value (UCUM unit)</th><th>Target</th><th>Status</th><th>Note</th></tr>"
    return f"<table>{head}{''.join(rows)}</table>"


def _signoff(plan: PlanSummary) -> str:
    if plan.sign_off is None:
        return ('<div class="signoff"><b class="draft">NOT SIGNED: this plan is a proposal (draft).</b><br/>'
                "It becomes the plan of record only when the responsible surgeon signs it "
                "(<code>surgical-planner sign-off</code>).<br/><br/>Surgeon: ______________________ "
                "Date: ____________ Signature: ______________________</div>")
    return (f'<div class="signoff"><b>Signed</b> by {escape(plan.sign_off.surgeon)} at {escape(plan.sign_off.signed_at)} '
            f"(UTC); plan file SHA-256 {escape(plan.sign_off.plan_sha256[:16])}…</div>")


def report_html(plan: PlanSummary, subject: ReportSubject, pictures: ReportPictures, audit_head: str = "") -> str:
    draft = plan.is_draft
    title = f"{'DRAFT - ' if draft else ''}Surgical plan: {plan.procedure}, {plan.side} side"
    footer = f"{plan.software} - plan {plan.plan_id}{' - DRAFT, NOT SIGNED' if draft else ''}"
    identity = [("Patient" + (" (pseudonym)" if subject.deidentified else ""), subject.patient.replace("^", " ")),
                ("Patient ID" + (" (pseudonym)" if subject.deidentified else ""), subject.patient_id),
                ("Study", subject.study_uid), ("Study date", subject.study_date), ("Series", subject.series),
                ("Plan", f"{plan.plan_id}, created {plan.created}, status {plan.status}")]
    understood = "".join(f"<li>{escape(u)}</li>" for u in plan.understood) or "<li>(nothing)</li>"
    missed = "".join(f"<li>{escape(u)}</li>" for u in plan.not_understood)
    views = "".join(_image(png, f"{name} view (3D, patient frame RAS)") for name, png in pictures.views.items())
    slice_view = _image(pictures.slice_png, pictures.slice_caption) if pictures.slice_png else "<p>(no slice view)</p>"
    warnings = "".join(f'<li class="s-warning">{escape(w)}</li>' for w in plan.warnings) or "<li>none</li>"
    decisions = "".join(f"<tr><td>{escape(d.key)}</td><td>{escape(d.value)}</td><td>{escape(d.reason)}</td></tr>"
                        for d in plan.decisions)
    models = "".join(f"<tr><td>{escape(m.name)}</td><td>{escape(m.version)}</td><td>{escape(m.accuracy or 'not measured')}</td></tr>"
                     for m in plan.models)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"/><title>{escape(title)}</title>
<style>{PAGE_STYLE.format(footer=footer.replace('"', "'"))}{STYLE}</style></head><body>
<h1 class="{'draft' if draft else ''}">{escape(title)}</h1>
{'<p class="banner">DRAFT: proposed by the software, not signed by a surgeon. Not for surgical use.</p>' if draft else ''}
<h2>Patient and study</h2><table>{_rows(identity)}</table>
<h2>Request</h2><p>{escape(plan.request_text) or '(no written request)'}</p>
<p>Understood as:</p><ul>{understood}</ul>{f'<p>Not understood:</p><ul>{missed}</ul>' if missed else ''}
<h2>Plan pictures</h2><div class="views">{views}{slice_view}</div>
<h2>Metrics</h2>{_metrics(plan)}
<h2>Warnings</h2><ul>{warnings}</ul>
<h2>Automatic choices and their reasons</h2><table><tr><th>Choice</th><th>Value</th><th>Reason</th></tr>{decisions}</table>
<h2>Models and measured accuracy</h2><table><tr><th>Model</th><th>Version</th><th>Measured accuracy</th></tr>{models}</table>
<h2>Sign-off</h2>{_signoff(plan)}
<p style="font-size:8pt;color:#555">Software: {escape(plan.software)}. Audit trail head: {escape(audit_head or 'not given')}.</p>
</body></html>"""


def write_report(plan: PlanSummary, subject: ReportSubject, pictures: ReportPictures, output_dir: Path,
                 audit_head: str = "") -> tuple[Path, Path]:
    """``report.html`` and ``report.pdf`` in ``output_dir``, each written atomically."""
    from weasyprint import HTML  # imported here: it loads Pango, which only the report needs

    html = report_html(plan, subject, pictures, audit_head)
    pdf = HTML(string=html).write_pdf()
    return write_text_atomic(output_dir / "report.html", html), write_bytes_atomic(output_dir / "report.pdf", pdf)
