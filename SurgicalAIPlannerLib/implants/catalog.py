"""Implant catalogs: JSON files of THA cups, heads and stems, lumbar pedicle screws and HTO plates.

A catalog file holds ``{"schema": "surgical-planner/implant-catalog/1"}`` plus any of the sections
``"cups"``, ``"heads"``, ``"stems"``, ``"pedicle_screws"``, ``"hto_plates"`` (lists of entries); the bundled
generic files in ``Resources/Implants/`` document the conventions. Users' own files are added the same way
(ids unique across files). Every problem is reported with the file, the entry and the field at fault.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from ..resources import resources_dir

CATALOG_SCHEMA = "surgical-planner/implant-catalog/1"
# Top-level keys a catalog may carry besides its implant sections (documentation for people).
DESCRIPTIVE_KEYS = {"schema", "name", "units", "conventions", "description"}
HTO_WEDGES = ("opening", "closing")
PLATE_SIDES = ("left", "right", "either")
# Plausible pedicle screw sizes (mm); a value outside is more likely a unit slip (cm, inch) than a real screw.
SCREW_DIAMETER_RANGE_MM = (3.0, 10.0)
SCREW_LENGTH_RANGE_MM = (20.0, 100.0)


class ImplantCatalogError(ValueError):
    def __init__(self, path: Path | str, problem: str) -> None:
        self.path = Path(path)
        super().__init__(f"{self.path}: {problem}")


@dataclass(frozen=True)
class Cup:
    id: str
    outer_diameter_mm: float
    liner_inner_diameters_mm: tuple[float, ...]
    fixation: str
    description: str = ""

    @property
    def outer_radius_mm(self) -> float:
        return self.outer_diameter_mm / 2.0


@dataclass(frozen=True)
class Head:
    id: str
    diameter_mm: float
    neck_offset_mm: float
    description: str = ""


@dataclass(frozen=True)
class CanalLevel:
    level_mm: float
    width_mm: float


@dataclass(frozen=True)
class Stem:
    """A stem in its own frame: origin where stem and neck axes meet, +z proximal, +x medial (towards the head)."""

    id: str
    family: str
    size_mm: float
    fixation: str
    ccd_deg: float
    offset_mm: float
    neck_length_mm: float
    length_below_origin_mm: float
    canal_widths_mm: tuple[CanalLevel, ...]
    description: str = ""

    @property
    def neck_direction(self) -> tuple[float, float, float]:
        """Unit neck axis in stem coordinates (medial and proximal)."""
        angle = math.radians(180.0 - self.ccd_deg)
        return (math.sin(angle), 0.0, math.cos(angle))

    @property
    def origin_to_head_mm(self) -> float:
        """Distance from the stem origin to the head centre along the neck axis (0 mm head)."""
        return self.offset_mm / math.sin(math.radians(180.0 - self.ccd_deg))

    def head_center(self, neck_offset_mm: float = 0.0) -> tuple[float, float, float]:
        """Head centre in stem coordinates for a head with ``neck_offset_mm``."""
        distance = self.origin_to_head_mm + neck_offset_mm
        return tuple(distance * component for component in self.neck_direction)

    def resection_point(self) -> tuple[float, float, float]:
        """Where the neck axis crosses the stem's resection (shoulder) plane, in stem coordinates."""
        distance = self.origin_to_head_mm - self.neck_length_mm
        return tuple(distance * component for component in self.neck_direction)

    def width_at(self, level_mm: float) -> float | None:
        """Mediolateral stem width (mm) at ``level_mm`` distal to the origin, linear between catalog levels."""
        levels = self.canal_widths_mm
        if not levels or level_mm < levels[0].level_mm or level_mm > levels[-1].level_mm:
            return None
        for upper, lower in zip(levels, levels[1:]):
            if upper.level_mm <= level_mm <= lower.level_mm:
                fraction = (level_mm - upper.level_mm) / (lower.level_mm - upper.level_mm)
                return upper.width_mm + fraction * (lower.width_mm - upper.width_mm)
        return levels[-1].width_mm


@dataclass(frozen=True)
class PedicleScrew:
    id: str
    diameter_mm: float  # major (thread) diameter
    length_mm: float  # from the head's seat to the tip
    head: str = ""  # e.g. polyaxial, monoaxial
    description: str = ""


@dataclass(frozen=True)
class HtoPlate:
    """A high tibial osteotomy plate; ``side`` is the leg it is shaped for ("either" when symmetric)."""

    id: str
    wedge: str
    side: str
    size: str
    length_mm: float
    proximal_width_mm: float
    thickness_mm: float
    proximal_holes: int
    distal_holes: int
    description: str = ""

    @property
    def holes(self) -> int:
        return self.proximal_holes + self.distal_holes


@dataclass
class ImplantCatalog:
    cups: dict[str, Cup] = field(default_factory=dict)
    heads: dict[str, Head] = field(default_factory=dict)
    stems: dict[str, Stem] = field(default_factory=dict)
    pedicle_screws: dict[str, PedicleScrew] = field(default_factory=dict)
    hto_plates: dict[str, HtoPlate] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)  # file path -> sha256, for the plan's provenance
    _origin: dict[str, Path] = field(default_factory=dict, repr=False)

    def cup(self, implant_id: str) -> Cup:
        return _lookup(self.cups, implant_id, "cup")

    def head(self, implant_id: str) -> Head:
        return _lookup(self.heads, implant_id, "head")

    def stem(self, implant_id: str) -> Stem:
        return _lookup(self.stems, implant_id, "stem")

    def pedicle_screw(self, implant_id: str) -> PedicleScrew:
        return _lookup(self.pedicle_screws, implant_id, "pedicle screw")

    def hto_plate(self, implant_id: str) -> HtoPlate:
        return _lookup(self.hto_plates, implant_id, "HTO plate")

    def add_file(self, path: Path | str) -> None:
        path = Path(path)
        data = _read_json(path)
        sections = {"cups": (_parse_cup, self.cups), "heads": (_parse_head, self.heads),
                    "stems": (_parse_stem, self.stems), "pedicle_screws": (_parse_pedicle_screw, self.pedicle_screws),
                    "hto_plates": (_parse_hto_plate, self.hto_plates)}
        unknown = sorted(set(data) - DESCRIPTIVE_KEYS - set(sections))
        if unknown:  # a misspelt section would otherwise be skipped without a word
            raise ImplantCatalogError(path, f"unknown section(s) {', '.join(map(repr, unknown))}; "
                                            f"implant sections are {', '.join(sections)}")
        for kind, (parse, table) in sections.items():
            entries = data.get(kind, [])
            if not isinstance(entries, list):
                raise ImplantCatalogError(path, f"'{kind}' must be a list")
            for index, entry in enumerate(entries):
                implant = _parse_entry(path, kind, index, entry, parse)
                if implant.id in self._origin:
                    raise ImplantCatalogError(path, f"{kind}[{index}]: id {implant.id!r} is already defined in {self._origin[implant.id]}")
                self._origin[implant.id] = path
                table[implant.id] = implant
        self.sources[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()

    def file_of(self, implant_id: str) -> Path:
        return self._origin[implant_id]


def default_catalog_paths() -> list[Path]:
    return sorted((resources_dir() / "Implants").glob("*.json"))


def load_catalog(extra_paths: list[Path | str] | tuple = ()) -> ImplantCatalog:
    """The bundled catalogs plus ``extra_paths`` (users' own files); ids must be unique across files."""
    catalog = ImplantCatalog()
    for path in [*default_catalog_paths(), *extra_paths]:
        catalog.add_file(path)
    return catalog


def _lookup(table: dict, implant_id: str, kind: str):
    try:
        return table[implant_id]
    except KeyError:
        raise KeyError(f"no {kind} with id {implant_id!r} in the implant catalog") from None


def _read_json(path: Path) -> dict:
    if not path.is_file():
        raise ImplantCatalogError(path, "no such implant catalog file")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ImplantCatalogError(path, f"not valid JSON ({error})") from None
    if not isinstance(data, dict) or data.get("schema") != CATALOG_SCHEMA:
        raise ImplantCatalogError(path, f"not an implant catalog: 'schema' must be {CATALOG_SCHEMA!r}")
    return data


def _parse_entry(path: Path, kind: str, index: int, entry, parse):
    if not isinstance(entry, dict):
        raise ImplantCatalogError(path, f"{kind}[{index}] must be an object")
    try:
        return parse(entry)
    except KeyError as error:
        raise ImplantCatalogError(path, f"{kind}[{index}] ({entry.get('id', 'no id')}): missing field {error}") from None
    except (TypeError, ValueError) as error:
        raise ImplantCatalogError(path, f"{kind}[{index}] ({entry.get('id', 'no id')}): {error}") from None


def _positive(value, name: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a positive number of mm, got {value!r}") from None
    if not math.isfinite(number) or number <= 0:
        raise ValueError(f"{name} must be a positive number of mm, got {value!r}")
    return number


def _parse_cup(entry: dict) -> Cup:
    outer = _positive(entry["outer_diameter_mm"], "outer_diameter_mm")
    liners = tuple(_positive(d, "liner inner diameter") for d in entry["liner_inner_diameters_mm"])
    if not liners or max(liners) >= outer:
        raise ValueError("liner_inner_diameters_mm must list diameters smaller than the outer diameter")
    return Cup(str(entry["id"]), outer, liners, str(entry.get("fixation", "")), str(entry.get("description", "")))


def _parse_head(entry: dict) -> Head:
    offset = float(entry["neck_offset_mm"])
    if not math.isfinite(offset) or abs(offset) > 15:
        raise ValueError(f"neck_offset_mm {offset!r} is outside -15..15 mm")
    return Head(str(entry["id"]), _positive(entry["diameter_mm"], "diameter_mm"), offset, str(entry.get("description", "")))


def _parse_stem(entry: dict) -> Stem:
    ccd = float(entry["ccd_deg"])
    if not 100.0 <= ccd <= 160.0:
        raise ValueError(f"ccd_deg {ccd!r} is outside 100..160 degrees")
    levels = tuple(CanalLevel(float(level["level_mm"]), _positive(level["width_mm"], "width_mm"))
                   for level in entry["canal_widths_mm"])
    if [level.level_mm for level in levels] != sorted(level.level_mm for level in levels):
        raise ValueError("canal_widths_mm levels must be listed from proximal to distal")
    stem = Stem(
        id=str(entry["id"]), family=str(entry.get("family", "")), size_mm=_positive(entry["size_mm"], "size_mm"),
        fixation=str(entry.get("fixation", "")), ccd_deg=ccd, offset_mm=_positive(entry["offset_mm"], "offset_mm"),
        neck_length_mm=_positive(entry["neck_length_mm"], "neck_length_mm"),
        length_below_origin_mm=_positive(entry["length_below_origin_mm"], "length_below_origin_mm"),
        canal_widths_mm=levels, description=str(entry.get("description", "")),
    )
    if stem.neck_length_mm >= stem.origin_to_head_mm:
        raise ValueError(f"neck_length_mm {stem.neck_length_mm} must be shorter than the origin-to-head distance "
                         f"{stem.origin_to_head_mm:.1f} mm implied by offset and CCD")
    return stem


def _in_range(value, name: str, low: float, high: float) -> float:
    number = _positive(value, name)
    if not low <= number <= high:
        raise ValueError(f"{name} {number:g} is outside {low:g}..{high:g} mm")
    return number


def _count(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a whole number of at least 1, got {value!r}")
    return value


def _one_of(value, name: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return value


def _parse_pedicle_screw(entry: dict) -> PedicleScrew:
    return PedicleScrew(str(entry["id"]), _in_range(entry["diameter_mm"], "diameter_mm", *SCREW_DIAMETER_RANGE_MM),
                        _in_range(entry["length_mm"], "length_mm", *SCREW_LENGTH_RANGE_MM), str(entry.get("head", "")),
                        str(entry.get("description", "")))


def _parse_hto_plate(entry: dict) -> HtoPlate:
    return HtoPlate(
        id=str(entry["id"]), wedge=_one_of(entry["wedge"], "wedge", HTO_WEDGES),
        side=_one_of(entry["side"], "side", PLATE_SIDES), size=str(entry.get("size", "")),
        length_mm=_positive(entry["length_mm"], "length_mm"),
        proximal_width_mm=_positive(entry["proximal_width_mm"], "proximal_width_mm"),
        thickness_mm=_positive(entry["thickness_mm"], "thickness_mm"),
        proximal_holes=_count(entry["proximal_holes"], "proximal_holes"),
        distal_holes=_count(entry["distal_holes"], "distal_holes"), description=str(entry.get("description", "")),
    )
