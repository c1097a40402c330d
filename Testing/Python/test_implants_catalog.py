"""Implant catalog JSON: the bundled generic catalog, users' files, bad files, and parametric geometry."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from SurgicalAIPlannerLib.implants import ImplantCatalogError, load_catalog
from SurgicalAIPlannerLib.implants.geometry import cup_polydata, head_polydata, stem_polydata


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


def test_bundled_catalog_covers_the_required_ranges(catalog):
    assert sorted(cup.outer_diameter_mm for cup in catalog.cups.values()) == list(range(40, 70, 2))
    assert all(cup.liner_inner_diameters_mm for cup in catalog.cups.values())
    heads = {(head.diameter_mm, head.neck_offset_mm) for head in catalog.heads.values()}
    assert heads == {(d, o) for d in (28, 32, 36) for o in (-3.5, 0.0, 3.5, 7.0)}
    press_fit_12 = [stem for stem in catalog.stems.values() if stem.size_mm == 12 and stem.fixation == "press-fit"]
    assert press_fit_12, "a 12 mm press-fit stem must be expressible"
    for stem in catalog.stems.values():
        assert 120 <= stem.ccd_deg <= 140 and stem.offset_mm > 0 and stem.neck_length_mm > 0
        assert stem.width_at(100) == stem.size_mm  # the nominal size is the width at the distal level


def test_stem_head_centre_follows_ccd_offset_and_head_length(catalog):
    stem = catalog.stem("GEN-STEM-STD-12")
    x, y, z = stem.head_center(0.0)
    assert math.isclose(x, stem.offset_mm, abs_tol=1e-9) and y == 0.0
    assert math.isclose(math.degrees(math.atan2(x, z)), 180.0 - stem.ccd_deg, abs_tol=1e-9)
    longer = np.array(stem.head_center(3.5)) - np.array(stem.head_center(0.0))
    assert math.isclose(np.linalg.norm(longer), 3.5, abs_tol=1e-9)
    resection_to_head = np.linalg.norm(np.array(stem.head_center()) - np.array(stem.resection_point()))
    assert math.isclose(resection_to_head, stem.neck_length_mm, abs_tol=1e-9)


def test_geometry_has_the_catalog_dimensions(catalog):
    cup = catalog.cup("GEN-CUP-52")
    bounds = cup_polydata(cup).GetBounds()
    assert bounds[1] - bounds[0] == pytest.approx(52.0, abs=0.05)
    assert bounds[5] == pytest.approx(0.0, abs=1e-6) and bounds[4] == pytest.approx(-26.0, abs=0.05)  # opens to +z
    head_bounds = head_polydata(catalog.head("GEN-HEAD-36-0")).GetBounds()
    assert head_bounds[5] - head_bounds[4] == pytest.approx(36.0, abs=0.01)  # pole to pole
    stem = catalog.stem("GEN-STEM-STD-12")
    stem_bounds = stem_polydata(stem).GetBounds()
    assert stem_bounds[4] == pytest.approx(-stem.length_below_origin_mm, abs=0.01)
    assert stem_bounds[1] >= stem.offset_mm  # the neck reaches the head centre on the medial side


def write_catalog(tmp_path, name, **kinds):
    path = tmp_path / name
    path.write_text(json.dumps({"schema": "surgical-planner/implant-catalog/1", **kinds}))
    return path


def test_users_can_add_their_own_catalog(tmp_path):
    extra = write_catalog(tmp_path, "mine.json", cups=[{"id": "MY-CUP-70", "outer_diameter_mm": 70,
                                                         "liner_inner_diameters_mm": [36, 40]}])
    catalog = load_catalog([extra])
    assert catalog.cup("MY-CUP-70").outer_radius_mm == 35.0
    assert str(extra) in catalog.sources and catalog.file_of("MY-CUP-70") == extra


@pytest.mark.parametrize("content, problem", [
    ("{not json", "not valid JSON"),
    (json.dumps({"cups": []}), "schema"),
    (json.dumps({"schema": "surgical-planner/implant-catalog/1", "cups": [{"id": "X"}]}), "missing field 'outer_diameter_mm'"),
    (json.dumps({"schema": "surgical-planner/implant-catalog/1",
                 "cups": [{"id": "X", "outer_diameter_mm": 50, "liner_inner_diameters_mm": [52]}]}), "smaller than the outer"),
    (json.dumps({"schema": "surgical-planner/implant-catalog/1",
                 "cups": [{"id": "GEN-CUP-52", "outer_diameter_mm": 52, "liner_inner_diameters_mm": [32]}]}), "already defined"),
    (json.dumps({"schema": "surgical-planner/implant-catalog/1",
                 "heads": [{"id": "H", "diameter_mm": -32, "neck_offset_mm": 0}]}), "positive"),
])
def test_bad_catalog_files_are_refused_with_file_and_entry(tmp_path, content, problem):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(ImplantCatalogError) as error:
        load_catalog([path])
    assert str(path) in str(error.value) and problem in str(error.value)
