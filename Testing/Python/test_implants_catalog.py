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


def test_bundled_pedicle_screws_cover_the_lumbar_sizes(catalog):
    sizes = {(screw.diameter_mm, screw.length_mm) for screw in catalog.pedicle_screws.values()}
    assert sizes == {(d, float(length)) for d in (4.5, 5.0, 5.5, 6.0, 6.5, 7.0, 7.5) for length in range(30, 60, 5)}
    assert catalog.pedicle_screw("GEN-PS-6.5x45").description == "polyaxial pedicle screw 6.5 x 45 mm"
    assert catalog.file_of("GEN-PS-6.5x45").name == "generic_pedicle_screws.json"


def test_bundled_hto_plates_are_opening_wedge_for_each_side(catalog):
    plates = catalog.hto_plates.values()
    assert {plate.wedge for plate in plates} == {"opening"}
    for side in ("left", "right"):
        sized = sorted((p.length_mm, p.holes) for p in plates if p.side == side)
        assert len(sized) == 3 and sized == sorted(sized, key=lambda s: s[1])  # longer plates, more holes
    plate = catalog.hto_plate("GEN-HTO-OW-M-R")
    assert (plate.proximal_holes, plate.distal_holes, plate.side) == (4, 4, "right")


def test_users_can_add_screws_and_plates(tmp_path):
    extra = write_catalog(tmp_path, "spine.json",
                          pedicle_screws=[{"id": "MY-PS-8.5x50", "diameter_mm": 8.5, "length_mm": 50}],
                          hto_plates=[{"id": "MY-PLATE", "wedge": "closing", "side": "either", "length_mm": 100,
                                       "proximal_width_mm": 30, "thickness_mm": 4.5, "proximal_holes": 3,
                                       "distal_holes": 4}])
    catalog = load_catalog([extra])
    assert catalog.pedicle_screw("MY-PS-8.5x50").diameter_mm == 8.5
    assert catalog.hto_plate("MY-PLATE").holes == 7 and catalog.file_of("MY-PLATE") == extra


PLATE = {"id": "P", "wedge": "opening", "side": "left", "length_mm": 110, "proximal_width_mm": 35,
         "thickness_mm": 5, "proximal_holes": 4, "distal_holes": 4}


@pytest.mark.parametrize("sections, problem", [
    ({"screws": []}, "unknown section(s) 'screws'"),
    ({"pedicle_screws": [{"id": "S", "length_mm": 45}]}, "pedicle_screws[0] (S): missing field 'diameter_mm'"),
    ({"pedicle_screws": [{"id": "S", "diameter_mm": 0.55, "length_mm": 45}]}, "diameter_mm 0.55 is outside 3..10 mm"),
    ({"pedicle_screws": [{"id": "S", "diameter_mm": 5.5, "length_mm": "4.5 cm"}]}, "length_mm must be a positive number"),
    ({"pedicle_screws": {"id": "S"}}, "'pedicle_screws' must be a list"),
    ({"hto_plates": [{**PLATE, "wedge": "dome"}]}, "hto_plates[0] (P): wedge must be one of opening, closing"),
    ({"hto_plates": [{**PLATE, "side": "both"}]}, "side must be one of left, right, either"),
    ({"hto_plates": [{**PLATE, "distal_holes": 2.5}]}, "distal_holes must be a whole number"),
    ({"hto_plates": [{key: value for key, value in PLATE.items() if key != "thickness_mm"}]},
     "missing field 'thickness_mm'"),
    ({"hto_plates": [{**PLATE, "id": "GEN-HTO-OW-M-L"}]}, "already defined in"),
])
def test_bad_screw_and_plate_entries_name_file_entry_and_field(tmp_path, sections, problem):
    path = write_catalog(tmp_path, "broken.json", **sections)
    with pytest.raises(ImplantCatalogError) as error:
        load_catalog([path])
    assert str(error.value).startswith(f"{path}: ") and problem in str(error.value)
