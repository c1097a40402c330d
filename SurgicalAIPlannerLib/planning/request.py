"""Written planning requests -> a structured ``PlanningRequest``, deterministically.

The text is split into clauses (commas, semicolons, sentence ends). Each clause is matched against known
phrases; whatever words of a clause no phrase explains are reported in ``not_understood``, so nothing is
dropped silently. Contradictions (two sides, two ages, impossible values) raise ``RequestError``.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Callable, Protocol

from .cup_angles import DEFINITIONS
from .frames import SIDES

REQUEST_SCHEMA = "surgical-planner/planning-request/1"


class RequestError(ValueError):
    """The request cannot be planned as written (contradiction, impossible value, empty)."""


@dataclass
class TargetAngles:
    inclination_deg: float | None = None
    anteversion_deg: float | None = None
    definition: str = "radiographic"


@dataclass
class PlanningRequest:
    text: str = ""
    procedure: str | None = None
    side: str | None = None
    age_years: int | None = None
    sex: str | None = None
    diagnoses: list[str] = field(default_factory=list)
    classifications: list[str] = field(default_factory=list)
    stem_size_mm: float | None = None
    stem_fixation: str | None = None
    cup_diameter_mm: float | None = None
    cup_fixation: str | None = None
    head_diameter_mm: float | None = None
    max_leg_length_discrepancy_mm: float | None = None
    max_offset_change_mm: float | None = None
    target_angles: TargetAngles = field(default_factory=TargetAngles)
    outputs: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "PlanningRequest":
        data = dict(data)
        angles = TargetAngles(**data.pop("target_angles", {}) or {})
        unknown = set(data) - set(cls.__dataclass_fields__)
        if unknown:
            raise RequestError(f"unknown request fields: {', '.join(sorted(unknown))}")
        request = cls(**data, target_angles=angles)
        validate(request)
        return request


@dataclass
class Understanding:
    """One phrase of the text and what it was read as."""

    phrase: str
    meaning: str


@dataclass
class ParsedRequest:
    request: PlanningRequest
    understood: list[Understanding]
    not_understood: list[str]
    parser: str

    def summary_lines(self) -> list[str]:
        lines = [f"understood: {item.phrase!r} -> {item.meaning}" for item in self.understood]
        lines += [f"NOT understood: {phrase!r}" for phrase in self.not_understood]
        return lines

    def to_dict(self) -> dict:
        return {"schema": REQUEST_SCHEMA, "parser": self.parser, "request": self.request.to_dict(),
                "understood": [asdict(item) for item in self.understood], "not_understood": list(self.not_understood)}


class RequestParser(Protocol):
    name: str

    def parse(self, text: str) -> ParsedRequest: ...


# ---------------------------------------------------------------------------------------------- rules

NUMBER = r"(\d+(?:\.\d+)?)"
ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "1": 1, "2": 2, "3": 3, "4": 4}
FIXATION = {"pressfit": "press-fit", "cementless": "press-fit", "uncemented": "press-fit", "cemented": "cemented"}
FILLER = {"and", "with", "the", "a", "an", "of", "to", "for", "please", "patient", "on", "in", "at", "side", "hip",
          "is", "also", "type"}
DIAGNOSES = (
    (r"(?:(mild|moderate|severe|end-stage)\s+)?(?:primary\s+)?(osteoarthritis|coxarthrosis|OA)\b", "osteoarthritis"),
    (r"(?:avascular|aseptic)\s+necrosis|osteonecrosis|\bAVN\b", "avascular necrosis of the femoral head"),
    (r"rheumatoid\s+arthritis", "rheumatoid arthritis"),
    (r"(?:displaced\s+)?femoral\s+neck\s+fracture", "femoral neck fracture"),
    (r"post-?traumatic\s+arthritis", "post-traumatic arthritis"),
    (r"(?:developmental\s+)?dysplasia|\bDDH\b", "developmental dysplasia of the hip"),
)


@dataclass
class _Rule:
    pattern: re.Pattern
    apply: Callable[[re.Match, "_Reading"], str]


def _fixation(words: str) -> str:
    return FIXATION[re.sub(r"[-\s]", "", words.lower())]


class _Reading:
    """Accumulates values; setting one twice to different values is a contradiction."""

    def __init__(self, text: str) -> None:
        self.request = PlanningRequest(text=text)

    def set(self, name: str, value, phrase: str) -> None:
        current = getattr(self.request, name)
        if current is not None and current != value:
            raise RequestError(f"the request contradicts itself: {name.replace('_', ' ')} is both {current!r} and "
                               f"{value!r} (at {phrase!r})")
        setattr(self.request, name, value)

    def set_angle(self, name: str, value: float, phrase: str) -> None:
        current = getattr(self.request.target_angles, name)
        if current is not None and current != value:
            raise RequestError(f"the request contradicts itself: target {name.split('_')[0]} is both {current} and {value} (at {phrase!r})")
        setattr(self.request.target_angles, name, value)

    def append(self, name: str, value: str) -> None:
        values = getattr(self.request, name)
        if value not in values:
            values.append(value)


def _rule(pattern: str) -> Callable:
    def register(function: Callable[[re.Match, _Reading], str]) -> Callable:
        RULES.append(_Rule(re.compile(pattern, re.IGNORECASE), function))
        return function
    return register


RULES: list[_Rule] = []


@_rule(r"\b(total\s+hip\s+(?:arthroplasty|replacement)|THA|THR)\b")
def _procedure(match: re.Match, reading: _Reading) -> str:
    reading.set("procedure", "tha", match.group(0))
    return "procedure: total hip arthroplasty (tha)"


@_rule(r"\b(total\s+knee\s+(?:arthroplasty|replacement)|TKA|TKR)\b")
def _knee(match: re.Match, reading: _Reading) -> str:
    reading.set("procedure", "tka", match.group(0))
    return "procedure: total knee arthroplasty (tka)"


@_rule(r"\bbilateral\b")
def _bilateral(match: re.Match, reading: _Reading) -> str:
    raise RequestError("a bilateral request cannot be planned as one plan: plan the left and the right side separately")


@_rule(r"\b(left|right)\b")
def _side(match: re.Match, reading: _Reading) -> str:
    side = match.group(1).lower()
    reading.set("side", side, match.group(0))
    return f"side: {side}"


@_rule(r"\b(\d{1,3})[-\s]*(?:years?|yrs?|y)[-\s]*old\b|\baged?\s*(\d{1,3})\b")
def _age(match: re.Match, reading: _Reading) -> str:
    age = int(match.group(1) or match.group(2))
    reading.set("age_years", age, match.group(0))
    return f"age: {age} years"


@_rule(r"\b(male|female|man|woman)\b")
def _sex(match: re.Match, reading: _Reading) -> str:
    sex = {"man": "male", "woman": "female"}.get(match.group(1).lower(), match.group(1).lower())
    reading.set("sex", sex, match.group(0))
    return f"sex: {sex}"


@_rule(r"\bcrowe\s+(?:type\s+|class\s+|grade\s+)?(iv|iii|ii|i|[1-4])\b")
def _crowe(match: re.Match, reading: _Reading) -> str:
    grade = ["I", "II", "III", "IV"][ROMAN[match.group(1).lower()] - 1]
    reading.append("classifications", f"Crowe {grade}")
    return f"classification: Crowe type {grade} (hip dysplasia)"


@_rule(r"\bkellgren[-\s]+lawrence\s+(?:grade\s+)?([0-4])\b")
def _kellgren(match: re.Match, reading: _Reading) -> str:
    reading.append("classifications", f"Kellgren-Lawrence {match.group(1)}")
    return f"classification: Kellgren-Lawrence grade {match.group(1)}"


def _diagnosis_rule(pattern: str, name: str) -> None:
    def apply(match: re.Match, reading: _Reading) -> str:
        severity = match.group(1) if match.groups() else None
        label = f"{severity.lower()} {name}" if severity else name
        reading.append("diagnoses", label)
        return f"diagnosis: {label}"
    RULES.append(_Rule(re.compile(pattern, re.IGNORECASE), apply))


for _pattern, _name in DIAGNOSES:
    _diagnosis_rule(_pattern, _name)


FIXATION_WORDS = r"(press[-\s]?fit|cementless|uncemented|cemented)"


@_rule(rf"\b{NUMBER}\s*mm\s+(?:{FIXATION_WORDS}\s+)?(?:femoral\s+)?stem\b|\bstem\s+(?:size\s+)?{NUMBER}\s*mm\b")
def _stem(match: re.Match, reading: _Reading) -> str:
    size = float(match.group(1) or match.group(3))
    reading.set("stem_size_mm", size, match.group(0))
    meaning = f"stem: {size:g} mm"
    if match.group(2):
        fixation = _fixation(match.group(2))
        reading.set("stem_fixation", fixation, match.group(0))
        meaning += f", {fixation}"
    return meaning


@_rule(rf"\b{FIXATION_WORDS}\s+(?:femoral\s+)?stem\b")
def _stem_fixation(match: re.Match, reading: _Reading) -> str:
    fixation = _fixation(match.group(1))
    reading.set("stem_fixation", fixation, match.group(0))
    return f"stem fixation: {fixation}"


@_rule(rf"\b{NUMBER}\s*mm\s+(?:{FIXATION_WORDS}\s+)?(?:acetabular\s+)?(?:cup|shell)\b")
def _cup(match: re.Match, reading: _Reading) -> str:
    reading.set("cup_diameter_mm", float(match.group(1)), match.group(0))
    meaning = f"cup: {float(match.group(1)):g} mm outer diameter"
    if match.group(2):
        reading.set("cup_fixation", _fixation(match.group(2)), match.group(0))
        meaning += f", {_fixation(match.group(2))}"
    return meaning


@_rule(rf"\b{NUMBER}\s*mm\s+(?:femoral\s+)?head\b")
def _head(match: re.Match, reading: _Reading) -> str:
    reading.set("head_diameter_mm", float(match.group(1)), match.group(0))
    return f"head: {float(match.group(1)):g} mm diameter"


LIMIT = r"(?:>|>=|≥|over|above|more\s+than|greater\s+than|exceeding|of\s+more\s+than|<|<=|≤|under|below|less\s+than|within|max(?:imum)?|at\s+most|of)"


@_rule(rf"\b(?:avoid\s+(?:a\s+|any\s+)?)?(?:leg[-\s]+length\s+(?:discrepancy|discrepancies|difference|inequality)|LLD)\s*{LIMIT}?\s*{NUMBER}\s*mm\b")
def _lld(match: re.Match, reading: _Reading) -> str:
    limit = float(match.group(1))
    reading.set("max_leg_length_discrepancy_mm", limit, match.group(0))
    return f"tolerance: resulting leg length discrepancy at most {limit:g} mm"


@_rule(rf"\b(?:avoid\s+(?:an?\s+)?)?(?:(?:global|femoral)\s+)?offset\s+(?:change|difference)\s*{LIMIT}?\s*{NUMBER}\s*mm\b")
def _offset(match: re.Match, reading: _Reading) -> str:
    limit = float(match.group(1))
    reading.set("max_offset_change_mm", limit, match.group(0))
    return f"tolerance: global offset change at most {limit:g} mm"


@_rule(r"\b(radiographic|operative|anatomic(?:al)?)\b(?:\s+(?:definition|angles?))?")
def _definition(match: re.Match, reading: _Reading) -> str:
    definition = match.group(1).lower().replace("anatomical", "anatomic")
    reading.request.target_angles.definition = definition
    return f"cup angles in Murray's {definition} definition"


@_rule(rf"\b(?:cup\s+)?(inclination|abduction|anteversion)\s*(?:angle\s*)?(?:of|at|=|:)?\s*{NUMBER}\s*(?:°|deg(?:rees?)?)?")
def _angle(match: re.Match, reading: _Reading) -> str:
    name = "anteversion_deg" if match.group(1).lower() == "anteversion" else "inclination_deg"
    reading.set_angle(name, float(match.group(2)), match.group(0))
    return f"target cup {name.split('_')[0]}: {float(match.group(2)):g}°"


@_rule(r"\b(?:propose|plan|suggest)\b")
def _verb(match: re.Match, reading: _Reading) -> str:
    return "request to propose"


@_rule(r"\b(?:(?:neck\s+)?osteotomy(?:\s+(?:site|level|plane))?|neck\s+(?:cut|resection))\b")
def _osteotomy(match: re.Match, reading: _Reading) -> str:
    reading.append("outputs", "neck_osteotomy")
    return "output: femoral neck osteotomy plane"


@_rule(r"\bream(?:ing)?\s+(?:angles?|depth)\b")
def _ream(match: re.Match, reading: _Reading) -> str:
    output = "ream_depth" if "depth" in match.group(0).lower() else "ream_angles"
    reading.append("outputs", output)
    return f"output: {output.replace('_', ' ')}"


# ----------------------------------------------------------------------------------------- parsing

CLAUSE_SPLIT = re.compile(r"[,;\n]|\.(?=\s|$)")


class DeterministicParser:
    """Rule-based parser: same text, same result; no network, no model."""

    name = "deterministic-rules/1"

    def parse(self, text: str) -> ParsedRequest:
        if not text or not text.strip():
            raise RequestError("the planning request is empty")
        reading = _Reading(text)
        understood: list[Understanding] = []
        not_understood: list[str] = []
        for clause in (part.strip() for part in CLAUSE_SPLIT.split(text)):
            if clause:
                leftover = _read_clause(clause, reading, understood)
                if leftover:
                    not_understood.append(leftover)
        validate(reading.request)
        return ParsedRequest(reading.request, understood, not_understood, self.name)


def _read_clause(clause: str, reading: _Reading, understood: list[Understanding]) -> str:
    """Apply every rule to the clause; returns the words no rule explained ("" when all were)."""
    consumed = [False] * len(clause)
    for rule in RULES:
        for match in rule.pattern.finditer(clause):
            if any(consumed[match.start():match.end()]):
                continue  # an earlier, more specific rule already read this phrase
            understood.append(Understanding(match.group(0), rule.apply(match, reading)))
            consumed[match.start():match.end()] = [True] * (match.end() - match.start())
    remaining = "".join("\0" if used else char for char, used in zip(clause, consumed))
    pieces = [piece.strip(" .:-") for piece in remaining.split("\0")]
    leftover = [piece for piece in pieces if any(word.lower() not in FILLER for word in _words(piece))]
    return " … ".join(leftover)


def _words(text: str) -> list[str]:
    return re.findall(r"[\w°<>≤≥/+-]+", text)


def validate(request: PlanningRequest) -> None:
    """Impossible values are errors, named with the field."""
    checks = [
        (request.side is None or request.side in SIDES, f"side must be left or right, not {request.side!r}"),
        (request.age_years is None or 0 < request.age_years <= 120, f"age {request.age_years} years is not plausible"),
        (request.stem_size_mm is None or 5 <= request.stem_size_mm <= 30, f"stem size {request.stem_size_mm} mm is not plausible"),
        (request.cup_diameter_mm is None or 36 <= request.cup_diameter_mm <= 80, f"cup diameter {request.cup_diameter_mm} mm is not plausible"),
        (request.head_diameter_mm is None or 22 <= request.head_diameter_mm <= 44, f"head diameter {request.head_diameter_mm} mm is not plausible"),
        (request.max_leg_length_discrepancy_mm is None or 0 <= request.max_leg_length_discrepancy_mm <= 50,
         f"leg length tolerance {request.max_leg_length_discrepancy_mm} mm is not plausible"),
        (request.target_angles.inclination_deg is None or 0 <= request.target_angles.inclination_deg <= 90,
         f"cup inclination {request.target_angles.inclination_deg}° is outside 0..90°"),
        (request.target_angles.anteversion_deg is None or -45 <= request.target_angles.anteversion_deg <= 60,
         f"cup anteversion {request.target_angles.anteversion_deg}° is outside -45..60°"),
        (request.target_angles.definition in DEFINITIONS, f"unknown angle definition {request.target_angles.definition!r}"),
    ]
    for ok, problem in checks:
        if not ok:
            raise RequestError(problem)


def check_against_case(request: PlanningRequest, *, procedure: str | None = None, side: str | None = None,
                       sides_in_image: tuple[str, ...] = SIDES, image_description: str = "") -> PlanningRequest:
    """Fill procedure/side from the command line and refuse contradictions with it or with the CT."""
    if procedure and request.procedure and request.procedure != procedure:
        raise RequestError(f"the request asks for {request.procedure!r} but the plan was started for {procedure!r}")
    if side and request.side and request.side != side:
        raise RequestError(f"the request says {request.side} side but the plan was started for the {side} side")
    request.procedure = request.procedure or procedure
    request.side = request.side or side
    if request.side is None:
        raise RequestError("the side (left or right) is given neither in the request nor on the command line")
    if request.side not in sides_in_image:
        raise RequestError(f"the request is for the {request.side} hip but the CT's segmentation has no {request.side} "
                           f"hip bone and femur (found: {', '.join(sides_in_image) or 'none'})")
    named = {found.lower() for found in re.findall(r"\b(left|right)\b", image_description, re.IGNORECASE)}
    if len(named) == 1 and request.side not in named:
        raise RequestError(f"the request is for the {request.side} side but the CT is described as "
                           f"{image_description!r}")
    return request
