"""Written planning requests -> a structured ``PlanningRequest``, deterministically.

The text is split into clauses (commas, semicolons, sentence ends). Each clause is matched against known
phrases; whatever words of a clause no phrase explains are reported in ``not_understood``, so nothing is
dropped silently, and a negated phrase ("no dysplasia") is left there rather than read as its opposite.
Phrases the plan cannot use (approach, bearing materials, stem kind) are understood and echoed with
"informational" in their meaning. Contradictions (two sides, two cup sizes: both phrases are named),
impossible values and procedures that are not a primary THA or TKA raise ``RequestError``.
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
# Each rule reads one kind of phrase. Rules run in order and a phrase read by an earlier rule is not read
# again, so specific rules (a cemented stem of 12 mm) come before general ones (cemented).

NUMBER = r"\d+(?:\.\d+)?"
MM = r"\s*(?:mm|millimet(?:er|re)s?)\b"
DEGREES = r"\s*(?:°|º|˚|deg(?:ree)?s?\b\.?)"
# A size, not an angle ("cup 40/15", "40/15 cup", "40°") and not part of a longer number.
SIZE = rf"(?<![\d./]){NUMBER}(?![\d.])(?!\s*(?:°|º|˚|deg|/))"
SIZE_BEFORE = rf"(?:(?:size\s*|#\s*)?(?P<size_before>{SIZE})(?:{MM})?\s*)"
SIZE_AFTER = rf"(?:\s*(?:[:=]\s*|of\s+|size[d]?\s*|#\s*|~\s*|(?:about|around|approx(?:imately|\.)?)\s+)?(?P<size_after>{SIZE})(?:{MM})?)"
FIXATION_WORDS = (r"press[-\s]?fit|cementless|uncemented|non[-\s]?cemented|cemented"
                  r"|(?:no|not|without)\s+(?:bone\s+)?cement(?:ed|ing|ation)?")
CUP_WORDS = r"(?:acetabular\s+)?(?:cup|shell)|acetabular\s+component"
STEM_WORDS = r"(?:femoral\s+)?stem|femoral\s+component"
STEM_KINDS = r"standard(?:[-\s]offset)?|lateral(?:i[sz]ed)?(?:[-\s]offset)?|high[-\s]offset|extended[-\s]offset|collared|collarless"
HEAD_MATERIALS = (r"(?:biolox\s+)?delta(?:\s+ceramic)?|ceramic|co-?cr(?:mo)?|cobalt[-\s]chrom(?:e|ium)|metal|oxinium"
                  r"|oxidi[sz]ed\s+zirconium|stainless\s+steel")
LINER_MATERIALS = (r"(?:highly\s+)?cross[-\s]?linked\s+(?:polyethylene|poly|PE)|H?XLPE|(?:vitamin[-\s]E\s+)?(?:polyethylene|poly)"
                   r"|ceramic|metal")
AGE_UNIT = r"(?:years?|yrs?\.?|y\.o\.?|y/o|yo|y)(?![a-z])"
LIMIT = (r"(?:>=?|<=?|≥|≤|±|\+/-|over|above|below|under|exceeding|not\s+exceeding|(?:of\s+)?(?:more|less|greater)\s+than"
         r"|(?:no|not)\s+(?:more|greater)\s+than|(?:to\s+)?within|up\s+to|max(?:imum)?|at\s+most|tolerance|of|to)")
LENGTH_LIMIT = rf"\s*[:=]?\s*(?:{LIMIT}\s*)?(?P<limit>{NUMBER})\s*(?P<unit>mm|cm|millimet(?:er|re)s?)\b"
GOAL = (r"(?:keep|restore|equali[sz]e|maintain|correct|preserve|balance|match|reproduce|recreate|avoid|limit|minimi[sz]e"
        r"|reduce|no)")
LEG_LENGTH = (r"(?:leg[-\s]+lengths?(?:\s+(?:discrepanc(?:y|ies)|differences?|inequalit(?:y|ies)))?|limb[-\s]+lengths?"
              r"|LLD|LLI)")
OFFSET = r"(?:(?:native|original|global|femoral|hip|total)\s+)*offset(?:\s+(?:changes?|differences?|discrepancy))?"
ANGLE_NAME = r"(?P<name>inclination|abduction|anteversion)"
ANGLE_VALUE = (rf"(?:between\s+)?(?P<low>{NUMBER})(?:{DEGREES})?(?:\s*(?:-|–|to|and)\s*(?P<high>{NUMBER}))?"
               rf"(?:\s*(?:±|\+/-)\s*(?P<spread>{NUMBER}))?(?:{DEGREES})?")
INFORMATIONAL = "informational, not used by the plan"
FILLER = {"and", "with", "the", "a", "an", "of", "to", "for", "please", "patient", "pt", "on", "in", "at", "side", "hip",
          "is", "also", "type", "via", "using", "use", "by", "i", "we", "would", "like", "be", "this", "his", "her",
          "he", "she", "who", "has", "as", "joint",
          "procedure", "diagnosis", "dx", "indication", "sex", "gender"}  # labels, as in "Diagnosis: OA"
DIAGNOSES = (  # post-traumatic first: its "OA" is not primary osteoarthritis
    (r"\bpost[-\s]?traumatic\s+(?:osteo)?(?:arthritis|arthrosis|OA)\b", "post-traumatic arthritis"),
    (r"\b(?:(mild|moderate|severe|advanced|end[-\s]stage)\s+)?(?:primary\s+)?(?:osteoarthritis|osteoarthrosis|coxarthrosis"
     r"|arthrosis|OA|degenerative\s+joint\s+disease|DJD)\b", "osteoarthritis"),
    (r"(?:\b(?:avascular|aseptic)\s+necrosis|\bosteonecrosis|\bAVN\b|\bONFH\b)(?:\s+of\s+(?:the\s+)?femoral\s+head)?",
     "avascular necrosis of the femoral head"),
    (r"\brheumatoid\s+arthritis|\bRA\b", "rheumatoid arthritis"),
    (r"\b(?:(?:displaced|undisplaced|intracapsular|subcapital)\s+)*(?:femoral\s+neck\s+fracture|fracture\s+of\s+the\s+femoral"
     r"\s+neck|(?:fractured\s+)?neck\s+of\s+(?:the\s+)?femur(?:\s+fracture)?|FNF|NOF\s+fracture|(?:intracapsular|subcapital)"
     r"\s+(?:hip\s+)?fracture)\b|#\s*NOF\b", "femoral neck fracture"),
    (r"\b(?:developmental\s+)?dysplasia(?:\s+of\s+the\s+hip)?|\bdysplastic\s+hip|\bDDH\b|\bCDH\b",
     "developmental dysplasia of the hip"),
    (r"\b(?:Legg[-\s]Calv[ée][-\s])?Perthes(?:'?\s+disease)?", "Legg-Calvé-Perthes disease"),
    (r"\bslipped\s+(?:capital|upper)\s+femoral\s+epiphysis|\bSCFE\b|\bSUFE\b", "slipped capital femoral epiphysis"),
    (r"\bankylosing\s+spondylitis\b", "ankylosing spondylitis"),
    (r"\bprotrusio(?:\s+acetabuli)?\b", "protrusio acetabuli"),
)
ROMAN = {"0": 0, "i": 1, "ii": 2, "iii": 3, "iv": 4, "1": 1, "2": 2, "3": 3, "4": 4}
# name as stored, how it is written, how grades are written ("roman": I-IV, "number": 0-4, "letter": A-C), word, about
CLASSIFICATIONS = (
    ("Crowe", r"crowe", "roman", "type", "hip dysplasia"),
    ("Hartofilakidis", r"hartofilakidis", "letter", "type", "hip dysplasia"),
    ("Garden", r"garden", "roman", "type", "femoral neck fracture"),
    ("Ficat", r"ficat(?:[-\s]+arlet)?", "roman", "stage", "osteonecrosis of the femoral head"),
    ("Tönnis", r"t(?:ö|oe|o)nnis", "number", "grade", "osteoarthritis"),
    ("Kellgren-Lawrence", r"kellgren[-\s]+lawrence|KL", "number", "grade", "osteoarthritis"),
    ("Dorr", r"dorr", "letter", "type", "proximal femoral bone shape"),
)
GRADES = {"roman": r"iv|iii|ii|i|[1-4]", "number": r"[0-4]", "letter": r"[abc]"}


@dataclass
class _Rule:
    pattern: re.Pattern
    apply: Callable[[re.Match, "_Reading"], str | None]  # None: the phrase says nothing here, leave it to others


def _fixation(words: str) -> str:
    """As the catalog names it: 'cemented', or 'press-fit' for every cementless wording ('no cement' too)."""
    return "cemented" if words.strip().lower() == "cemented" else "press-fit"


def _millimetres(number: str, unit: str) -> float:
    return float(number) * (10.0 if unit.lower() == "cm" else 1.0)


def _label_and_unit(name: str) -> tuple[str, str]:
    """'cup_diameter_mm' -> ('cup diameter', ' mm'), for messages."""
    label, _, suffix = name.rpartition("_")
    unit = {"mm": " mm", "years": " years", "deg": "°"}.get(suffix)
    return (label if unit else name).replace("_", " "), unit or ""


class _Reading:
    """Accumulates values; setting one twice to different values is a contradiction naming both phrases."""

    def __init__(self, text: str) -> None:
        self.request = PlanningRequest(text=text)
        self.phrases: dict[str, str] = {}

    def set(self, name: str, value, phrase: str) -> None:
        owner = self.request.target_angles if name in TargetAngles.__dataclass_fields__ else self.request
        current = getattr(owner, name)
        if name in self.phrases and current != value:  # only what the text itself said can be contradicted
            label, unit = _label_and_unit(name)
            shown = [f"{v:g}{unit}" if unit else repr(v) for v in (current, value)]
            raise RequestError(f"the request contradicts itself: {label} is both {shown[0]} (from {self.phrases[name]!r}) "
                               f"and {shown[1]} (from {phrase!r})")
        setattr(owner, name, value)
        self.phrases.setdefault(name, phrase)

    def append(self, name: str, value: str) -> None:
        values = getattr(self.request, name)
        if value not in values:
            values.append(value)


def _rule(pattern: str) -> Callable:
    def register(function: Callable[[re.Match, _Reading], str | None]) -> Callable:
        RULES.append(_Rule(re.compile(pattern, re.IGNORECASE), function))
        return function
    return register


RULES: list[_Rule] = []


@_rule(r"\b(?:revision|re-?revision|hemi-?arthroplasty|hemi|(?:hip\s+)?resurfacing)\b")
def _unsupported_procedure(match: re.Match, reading: _Reading) -> str:
    raise RequestError(f"{match.group(0)!r}: only primary total hip arthroplasty is planned (revision, hemiarthroplasty "
                       "and resurfacing are not supported)")


@_rule(r"\b(?:total\s+hip(?:\s+joint)?(?:\s+(?:arthroplasty|replacement))?|hip\s+(?:arthroplasty|replacement)|THA|THR|THJR)\b")
def _procedure(match: re.Match, reading: _Reading) -> str:
    reading.set("procedure", "tha", match.group(0))
    return "procedure: total hip arthroplasty (tha)"


@_rule(r"\b(?:total\s+knee(?:\s+joint)?(?:\s+(?:arthroplasty|replacement))?|knee\s+(?:arthroplasty|replacement)|TKA|TKR)\b")
def _knee(match: re.Match, reading: _Reading) -> str:
    reading.set("procedure", "tka", match.group(0))
    return "procedure: total knee arthroplasty (tka)"


@_rule(r"\bbilateral\b")
def _bilateral(match: re.Match, reading: _Reading) -> str:
    raise RequestError("a bilateral request cannot be planned as one plan: plan the left and the right side separately")


@_rule(r"\b(left|right|lt|rt|(?-i:L|R))\b(?:[-\s]sided)?")
def _side(match: re.Match, reading: _Reading) -> str:
    side = "left" if match.group(1).lower() in ("left", "lt", "l") else "right"
    reading.set("side", side, match.group(0))
    return f"side: {side}"


def _set_age(age: str, reading: _Reading, phrase: str) -> str:
    reading.set("age_years", int(age), phrase)
    return f"age: {int(age)} years"


def _set_sex(letter_or_word: str, reading: _Reading, phrase: str) -> str:
    sex = "male" if letter_or_word.lower() in ("m", "male", "man", "gentleman") else "female"
    reading.set("sex", sex, phrase)
    return f"sex: {sex}"


@_rule(rf"\b(?P<age>\d{{1,3}})\s*[-–]?\s*(?:{AGE_UNIT}(?:[-–\s]*old)?\s*[-–]?\s*)?(?P<sex>[MF])\b"
       rf"|\b(?P<sex_first>male|female|man|woman|(?-i:[MF]))\s+(?P<age_after>\d{{1,3}})(?![\d.])(?!\s*(?:mm|cm|°|deg|%))"
       rf"(?:\s*[-–]?\s*{AGE_UNIT}(?:[-–\s]*old)?)?")
def _age_and_sex(match: re.Match, reading: _Reading) -> str:
    """'72M', '80yo F', '65-year-old M', 'male 71'."""
    phrase = match.group(0)
    age, sex = match.group("age") or match.group("age_after"), match.group("sex") or match.group("sex_first")
    return _set_age(age, reading, phrase) + "; " + _set_sex(sex, reading, phrase)


@_rule(rf"(?<!for )\b(?P<age>\d{{1,3}})\s*[-–]?\s*{AGE_UNIT}(?:[-–\s]*old)?(?:\s+of\s+age)?"
       rf"|\b(?:aged?|age\s*[:=]|patient\s+(?:is\s+)?(?:aged?\s+)?|pt\s+(?:is\s+)?)\s*(?P<age_after>\d{{1,3}})(?![\d.])"
       rf"(?!\s*(?:mm|cm|°|deg|%))(?:\s*{AGE_UNIT}(?:[-–\s]*old)?)?")
def _age(match: re.Match, reading: _Reading) -> str:
    return _set_age(match.group("age") or match.group("age_after"), reading, match.group(0))


@_rule(r"\b(male|female|man|woman|gentleman|lady)\b|\b(?-i:([MF]))\b")
def _sex(match: re.Match, reading: _Reading) -> str:
    return _set_sex(match.group(1) or match.group(2), reading, match.group(0))


def _classification_rule(name: str, written: str, style: str, word: str, about: str) -> None:
    def apply(match: re.Match, reading: _Reading) -> str:
        grade = match.group("grade").upper()
        if style != "letter":
            number = ROMAN[grade.lower()]
            grade = ["0", "I", "II", "III", "IV"][number] if style == "roman" else str(number)
        reading.append("classifications", f"{name} {grade}")
        return f"classification: {name} {word} {grade} ({about})"
    pattern = rf"\b(?:{written})\s+(?:type\s+|class\s+|grade\s+|stage\s+)?(?P<grade>{GRADES[style]})\b(?:\s+(?:femur|bone))?"
    RULES.append(_Rule(re.compile(pattern, re.IGNORECASE), apply))


for _classification in CLASSIFICATIONS:
    _classification_rule(*_classification)


def _diagnosis_rule(pattern: str, name: str) -> None:
    def apply(match: re.Match, reading: _Reading) -> str:
        severity = match.group(1) if match.groups() else None
        label = f"{severity.lower()} {name}" if severity else name
        reading.append("diagnoses", label)
        return f"diagnosis: {label}"
    RULES.append(_Rule(re.compile(pattern, re.IGNORECASE), apply))


for _pattern, _name in DIAGNOSES:
    _diagnosis_rule(_pattern, _name)


@_rule(r"\b(?:secondary\s+to|due\s+to)\b")
def _secondary_to(match: re.Match, reading: _Reading) -> str:
    return "links two diagnoses (both are listed)"


@_rule(r"\bprimary\b")
def _primary(match: re.Match, reading: _Reading) -> str:
    return "primary arthroplasty (the only kind planned)"


CUP_ANGLE_NAMES = r"(?:orientation|angles?|position|(?:inclination|abduction)\s*/\s*anteversion)"


@_rule(rf"(?P<named_before>\b(?:(?:target\s+)?(?:cup|component)\s+(?:{CUP_ANGLE_NAMES}\s*)?|{CUP_ANGLE_NAMES}\s*)"
       rf"(?:of|at|=|:|to)?\s*)?(?<![\d.])(?P<inclination>{NUMBER})(?:{DEGREES})?\s*/\s*(?P<anteversion>{NUMBER})(?:{DEGREES})?"
       rf"(?P<named_after>\s+cup(?:\s+{CUP_ANGLE_NAMES})?\b)?")
def _angle_pair(match: re.Match, reading: _Reading) -> str | None:
    """'cup at 40/15', 'inclination/anteversion 42°/20°', '40/15 cup'; a bare '40/15' is left unread."""
    if not match.group("named_before") and not match.group("named_after"):
        return None
    inclination, anteversion = float(match.group("inclination")), float(match.group("anteversion"))
    reading.set("inclination_deg", inclination, match.group(0))
    reading.set("anteversion_deg", anteversion, match.group(0))
    return f"target cup inclination {inclination:g}°, anteversion {anteversion:g}°"


def _set_target_angle(match: re.Match, reading: _Reading) -> str:
    name = "anteversion" if match.group("name").lower() == "anteversion" else "inclination"
    low, high, spread = match.group("low", "high", "spread")
    target = (float(low) + float(high)) / 2.0 if high else float(low)
    reading.set(f"{name}_deg", target, match.group(0))
    if high:  # the model holds one target per angle: a range is aimed at its middle
        return f"target cup {name}: {target:g}° (middle of the requested {low}–{high}°; the plan aims at the middle)"
    if spread:
        return f"target cup {name}: {target:g}° (± {spread}° echoed, {INFORMATIONAL}: the plan aims at {target:g}°)"
    return f"target cup {name}: {target:g}°"


# 'combined', femoral and stem anteversion are not the cup's: leave them unread rather than misread them.
_rule(rf"(?<!combined )(?<!femoral )(?<!stem )\b(?:(?:target|desired|planned|goal)\s*:?\s+)?(?:(?:acetabular\s+)?(?:cup|component)\s+)?"
      rf"{ANGLE_NAME}(?:\s+angle)?\s*(?:(?:of|at|=|:|to|target|about|around|approx(?:imately|\.)?|~)\s*){{0,2}}{ANGLE_VALUE}")(_set_target_angle)
_rule(rf"(?:\b(?:cup|component)\s+(?:at\s+|in\s+|with\s+)?)?(?<![\d.]){ANGLE_VALUE}\s*(?:of\s+)?(?:cup\s+)?{ANGLE_NAME}\b")(_set_target_angle)


@_rule(r"\b(?:within\s+|in\s+)?(?:the\s+)?(?:Lewinnek(?:'s)?|Callanan(?:'s)?)(?:\s+safe)?(?:\s+zone)?")
def _safe_zone(match: re.Match, reading: _Reading) -> str:
    return "cup in the safe zone: the default target 40°/15° radiographic is the centre of Lewinnek's zone"


def _set_fixations(cup: str, stem: str, reading: _Reading, phrase: str) -> str:
    reading.set("cup_fixation", cup, phrase)
    reading.set("stem_fixation", stem, phrase)
    return f"fixation: {cup} cup, {stem} stem"


@_rule(rf"\b(?P<fixation>{FIXATION_WORDS})\s+(?:(?:{CUP_WORDS})\s+and\s+(?:{STEM_WORDS})|(?:{STEM_WORDS})\s+and\s+(?:{CUP_WORDS})"
       rf"|components)\b")
def _fixation_of_both(match: re.Match, reading: _Reading) -> str:
    """'cemented cup and stem' (read before the cup alone would be)."""
    fixation = _fixation(match.group("fixation"))
    return _set_fixations(fixation, fixation, reading, match.group(0))


def _component_rule(component: str, words: str, describe_size: str) -> None:
    def kind(group: str) -> str:
        return rf"(?P<{group}>{STEM_KINDS if component == 'stem' else '(?!)'})"  # cups have no kinds: never matches
    pattern = (rf"(?:\b(?P<fix_before>{FIXATION_WORDS})\s+)?(?:{kind('kind_before')}\s+)?{SIZE_BEFORE}?"
               rf"(?:(?P<fix_middle>{FIXATION_WORDS})\s+)?(?:{kind('kind_middle')}\s+)?\b(?:{words})\b{SIZE_AFTER}?"
               rf"(?:\s*[:=]?\s*(?:(?P<fix_after>{FIXATION_WORDS})|{kind('kind_after')}))?")

    def apply(match: re.Match, reading: _Reading) -> str | None:
        parts = []
        size = match.group("size_before") or match.group("size_after")
        if size:
            reading.set(f"{component}_{describe_size}", float(size), match.group(0))
            parts.append(f"{float(size):g} mm" + (" outer diameter" if component == "cup" else ""))
        for words_read in dict.fromkeys(filter(None, match.group("fix_before", "fix_middle", "fix_after"))):
            reading.set(f"{component}_fixation", _fixation(words_read), match.group(0))
            parts.append(_fixation(words_read))
        stem_kind = match.group("kind_before") or match.group("kind_middle") or match.group("kind_after")
        if stem_kind:
            parts.append(f"{_stem_kind(stem_kind)} ({INFORMATIONAL}: the planner chooses standard or lateralised "
                         "itself, for the offset closest to native)")
        return f"{component}: {', '.join(parts)}" if parts else None
    RULES.append(_Rule(re.compile(pattern, re.IGNORECASE), apply))


def _stem_kind(words: str) -> str:
    words = re.sub(r"[-\s]+", " ", words.lower())
    if words.startswith("standard"):
        return "standard offset"
    return words if words.startswith("collar") else "lateralised (high offset)"


_component_rule("cup", CUP_WORDS, "diameter_mm")
_component_rule("stem", STEM_WORDS, "size_mm")


@_rule(rf"{SIZE_BEFORE}?(?:(?P<material_before>{HEAD_MATERIALS})\s+)?\b(?:femoral\s+)?(?:head|ball)\b{SIZE_AFTER}?"
       rf"(?:\s+(?P<material_after>{HEAD_MATERIALS})\b)?")
def _head(match: re.Match, reading: _Reading) -> str | None:
    size = match.group("size_before") or match.group("size_after")
    material = match.group("material_before") or match.group("material_after")
    parts = []
    if size:
        reading.set("head_diameter_mm", float(size), match.group(0))
        parts.append(f"{float(size):g} mm diameter")
    if material:
        parts.append(f"{material.lower()} ({INFORMATIONAL}: the catalog heads have no material)")
    return f"head: {', '.join(parts)}" if parts else None


@_rule(rf"\b(?:(?:{HEAD_MATERIALS})[-\s]+on[-\s]+(?:{LINER_MATERIALS})|CoP|CoC|MoP|MoM|Co-?XLPE|Mo-?XLPE|CoPE|MoPE)\b"
       rf"(?:\s+(?:bearing|articulation))?|\b(?:{LINER_MATERIALS})\s+liner\b|\bliner\s*[:=]?\s*(?:{LINER_MATERIALS})\b")
def _bearing(match: re.Match, reading: _Reading) -> str:
    return f"bearing: {match.group(0)} ({INFORMATIONAL}: the catalog liners have no material)"


@_rule(rf"\b(?:(?:reverse[d]?[-\s]+)?hybrid|(?:fully|all|totally)[-\s]+(?:{FIXATION_WORDS})|{FIXATION_WORDS})(?:\s+fixation)?"
       rf"|\bfixation\s*[:=]?\s*(?:(?:reverse[d]?[-\s]+)?hybrid|{FIXATION_WORDS})")
def _implant_fixation(match: re.Match, reading: _Reading) -> str:
    """Fixation named for the whole implant: both components, or hybrid (cemented stem) and reverse hybrid (cemented cup)."""
    words = re.sub(r"^fixation\s*[:=]?\s*|\s+fixation$|^(?:fully|all|totally)[-\s]+", "", match.group(0).lower())
    if "hybrid" in words:
        cup, stem = ("cemented", "press-fit") if "reverse" in words else ("press-fit", "cemented")
    else:
        cup = stem = _fixation(words)
    return _set_fixations(cup, stem, reading, match.group(0))


@_rule(r"\b(?:(?:via|through|using|by)\s+(?:an?\s+|the\s+)?)?(?:(?:direct|mini|modified)[-\s]+)?(?:postero-?lateral|posterior"
       r"|antero-?lateral|anterior|lateral|Hardinge|Watson[-\s]Jones|superior|SuperPATH|minimally\s+invasive)\s+approach\b"
       r"|\bDAA\b|\bapproach\s*[:=]?\s*(?:postero-?lateral|posterior|antero-?lateral|anterior|lateral)\b")
def _approach(match: re.Match, reading: _Reading) -> str:
    return f"surgical approach: {match.group(0)} ({INFORMATIONAL}: the plan is the same for every approach)"


LEG_LENGTH_GOAL = ("equal leg lengths, which the planner aims at anyway (stem depth cancels the native discrepancy); "
                   "tolerance unchanged")
OFFSET_GOAL = "native offset, which the planner aims at anyway (closest global offset to native); tolerance unchanged"


@_rule(rf"\b{GOAL}\s+(?:the\s+)?(?:{OFFSET}(?:\s+and\s+|\s*[/&]\s*){LEG_LENGTH}|{LEG_LENGTH}(?:\s+and\s+|\s*[/&]\s*){OFFSET})\b")
def _offset_and_leg_length(match: re.Match, reading: _Reading) -> str:
    return f"goal: {LEG_LENGTH_GOAL}; {OFFSET_GOAL}"


@_rule(rf"\b(?:(?P<goal>{GOAL})\s+(?:the\s+|any\s+|an?\s+)?)?(?P<equal>equal\s+)?{LEG_LENGTH}"
       rf"(?P<equal_after>\s+(?:equal|the\s+same))?(?:{LENGTH_LIMIT})?")
def _leg_length(match: re.Match, reading: _Reading) -> str | None:
    if match.group("limit"):
        limit = _millimetres(match.group("limit"), match.group("unit"))
        reading.set("max_leg_length_discrepancy_mm", limit, match.group(0))
        return f"tolerance: resulting leg length discrepancy at most {limit:g} mm"
    if match.group("goal", "equal", "equal_after") != (None, None, None):
        return f"goal: {LEG_LENGTH_GOAL}"
    return None  # a bare "leg length" says neither a goal nor a limit


@_rule(rf"\b(?:(?P<goal>{GOAL})\s+(?:the\s+|any\s+|an?\s+)?)?{OFFSET}(?:{LENGTH_LIMIT})?")
def _offset(match: re.Match, reading: _Reading) -> str | None:
    if match.group("limit"):
        limit = _millimetres(match.group("limit"), match.group("unit"))
        reading.set("max_offset_change_mm", limit, match.group(0))
        return f"tolerance: global offset change at most {limit:g} mm"
    if match.group("goal"):
        return f"goal: {OFFSET_GOAL}"
    return None  # "increase offset" is not a goal the planner has: leave it unread


@_rule(rf"\b{GOAL}\s+(?:the\s+)?(?:native\s+|anatomic(?:al)?\s+)?(?:(?:hip\s+)?cent(?:er|re)\s+of\s+rotation|CoR|hip\s+cent(?:er|re))\b")
def _centre_of_rotation(match: re.Match, reading: _Reading) -> str:
    return "goal: native centre of rotation, which the planner does anyway (cup centred on it)"


@_rule(r"\b(radiographic|operative|anatomic(?:al)?)\b(?:\s+(?:definition|angles?))?")
def _definition(match: re.Match, reading: _Reading) -> str:
    definition = match.group(1).lower().replace("anatomical", "anatomic")
    reading.set("definition", definition, match.group(0))
    return f"cup angles in Murray's {definition} definition"


@_rule(r"\b(?:propose|plan|planned|planning|suggest|template|recommend|prepare|provide|calculate|compute|determine|need"
       r"|request(?:ed|ing)?|(?:scheduled|booked|listed)\s+for)\b")
def _verb(match: re.Match, reading: _Reading) -> str:
    return "request to propose"


@_rule(r"\b(?:(?:neck\s+)?osteotomy(?:\s+(?:site|level|plane|height))?|neck\s+(?:cut|resection)(?:\s+(?:level|height))?)\b")
def _osteotomy(match: re.Match, reading: _Reading) -> str:
    reading.append("outputs", "neck_osteotomy")
    return "output: femoral neck osteotomy plane"


@_rule(r"\bream(?:ing)?\s+(?:angles?|depth|orientation)\b")
def _ream(match: re.Match, reading: _Reading) -> str:
    output = "ream_depth" if "depth" in match.group(0).lower() else "ream_angles"
    reading.append("outputs", output)
    return f"output: {output.replace('_', ' ')}"


@_rule(r"\b(?:implant|component|cup|stem)s?\s+(?:sizes?|sizing|positions?|placement)\b")
def _implant_output(match: re.Match, reading: _Reading) -> str:
    return "output: implant sizes and positions (always part of the plan)"


# ----------------------------------------------------------------------------------------- parsing

CLAUSE_SPLIT = re.compile(r"[,;\n]|(?<!\by\.o)\.(?=\s|$)")  # not the dots of "y.o."
NEGATED = re.compile(r"\b(?:no|not|without|non|nor|never)\s+(?:(?:history|evidence|signs?)\s+of\s+)?(?:an?\s+|any\s+|the\s+)?$",
                     re.IGNORECASE)


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
    read: list[tuple[int, Understanding]] = []
    for rule in RULES:
        for match in rule.pattern.finditer(clause):
            if any(consumed[match.start():match.end()]):
                continue  # an earlier, more specific rule already read this phrase
            if NEGATED.search(clause[:match.start()]):
                continue  # "no dysplasia", "not a revision": left unread rather than read as the opposite
            meaning = rule.apply(match, reading)
            if meaning is not None:
                read.append((match.start(), Understanding(match.group(0), meaning)))
                consumed[match.start():match.end()] = [True] * (match.end() - match.start())
    understood.extend(item for _, item in sorted(read, key=lambda pair: pair[0]))  # echoed in the text's order
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
