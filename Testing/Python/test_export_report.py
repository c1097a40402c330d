"""HTML + PDF report with offscreen 3D pictures of the real sample bones and a real CT slice.

The PDF pages are rasterised to PNG under output/test-report/ so that a person (and this test) can look
at them: the test checks the pages carry the plan's content and that the pictures are not blank.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pypdfium2
import pytest
from PIL import Image

from conftest import REPO_ROOT
from export_fixtures import MEASUREMENTS, make_plan
from SurgicalAIPlannerLib.export.pictures import SurfaceItem, axial_slice_picture, bone_polydata, render_views
from SurgicalAIPlannerLib.export.report import ReportPictures, ReportSubject, write_report
from SurgicalAIPlannerLib.imaging import load_ct, load_labelmap

PAGES_DIR = REPO_ROOT / "output" / "test-report"
BONES = {77: ("hip_left", (0.95, 0.84, 0.57), 1.0), 78: ("hip_right", (0.90, 0.75, 0.50), 1.0),
         75: ("femur_left", (1.0, 0.94, 0.75), 1.0), 76: ("femur_right", (1.0, 0.94, 0.75), 1.0),
         25: ("sacrum", (0.98, 0.90, 0.70), 0.5)}


@pytest.fixture(scope="module")
def pictures(sample_ct_file, sample_labels_file) -> ReportPictures:
    labels, ct = load_labelmap(sample_labels_file), load_ct(sample_ct_file)
    items = [SurfaceItem(name, bone_polydata(labels, value), color, opacity) for value, (name, color, opacity) in BONES.items()]
    slice_png, k = axial_slice_picture(ct, labels, 12, {value: color for value, (_, color, _) in BONES.items()})
    return ReportPictures(render_views(items), slice_png, f"axial slice {k} (bone window; patient's right on the left)")


def pages_as_png(pdf: Path, name: str) -> list[Path]:
    PAGES_DIR.mkdir(parents=True, exist_ok=True)
    for old in PAGES_DIR.glob(f"{name}-page*.png"):
        old.unlink()
    document = pypdfium2.PdfDocument(str(pdf))
    paths = []
    for index, page in enumerate(document):
        path = PAGES_DIR / f"{name}-page{index + 1}.png"
        page.render(scale=1.6).to_pil().save(path)
        paths.append(path)
    return paths


def pdf_text(pdf: Path) -> str:
    """The PDF's text with line breaks folded (table cells wrap long labels)."""
    text = " ".join(page.get_textpage().get_text_range() for page in pypdfium2.PdfDocument(str(pdf)))
    return " ".join(text.split())


def test_pictures_show_bones_in_anatomical_views(pictures):
    anterior = np.asarray(Image.open(io.BytesIO(pictures.views["anterior"])).convert("RGB")).astype(int)
    bone = (np.abs(anterior - 255).sum(axis=2) > 30)
    assert 0.1 < bone.mean() < 0.8, "the anterior view should show bone, neither an empty nor a filled frame"
    assert anterior[bone].mean(axis=0)[0] > 120, "bones are lit in bone colour, not drawn black"
    # Anterior view: the patient's left femur appears on the image's right half.
    columns = np.flatnonzero(bone[int(bone.shape[0] * 0.75):].any(axis=0))
    assert columns.mean() > bone.shape[1] / 2 - 40
    assert set(pictures.views) == {"anterior", "left lateral", "superior"}


@pytest.mark.parametrize("signed", [False, True])
def test_report_html_and_pdf(pictures, tmp_path, signed):
    subject = ReportSubject("Probandin^Erika^Maria", "SPL-PID-48213", "1.2.826.0.1.3680043.8.498.1", "20221208",
                            "CT Body 3.0", deidentified=False)
    html_path, pdf_path = write_report(make_plan(signed), subject, pictures, tmp_path, audit_head="ab" * 32)
    pages = pages_as_png(pdf_path, "signed" if signed else "draft")
    html = html_path.read_text()
    assert html.count("data:image/png;base64,") == 4
    text = pdf_text(pdf_path)
    for m in MEASUREMENTS:
        assert m.label in text
    assert "40.0 deg" in text and "6.2 mm" in text and "not measured" in text
    assert "largest cup with full rim support" in text and "TotalSegmentator 2" in text
    if signed:
        assert "Signed by Dr. Anna Weber" in text and "DRAFT" not in text
    else:
        assert "DRAFT" in text and "NOT SIGNED" in text
    assert 1 <= len(pages) <= 4
    first = np.asarray(Image.open(pages[0]).convert("L"))
    assert first.std() > 20, "page 1 should carry text and pictures, not be blank"


def test_deidentified_report_shows_only_the_pseudonym(pictures, tmp_path):
    subject = ReportSubject("PSN-0123456789AB", "PSN-0123456789AB", "2.25.1", "", "CT", deidentified=True)
    _, pdf_path = write_report(make_plan(False), subject, pictures, tmp_path)
    text = pdf_text(pdf_path)
    assert "PSN-0123456789AB" in text and "(pseudonym)" in text
