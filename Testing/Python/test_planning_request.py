"""Planning-request parser: the issue's example, malformed requests, contradictions with the case."""

from __future__ import annotations

import pytest

from SurgicalAIPlannerLib.planning.request import (DeterministicParser, PlanningRequest, RequestError,
                                                    check_against_case)
from SurgicalAIPlannerLib.planning.request_llm import ENV_MODEL, ENV_URL, OpenAICompatibleParser

EXAMPLE = ("Total hip arthroplasty, left, 68-year-old male, severe osteoarthritis, Crowe type II dysplasia, "
           "12 mm press-fit stem, avoid leg length discrepancy > 5 mm, propose osteotomy site and ream angles")


def parse(text: str):
    return DeterministicParser().parse(text)


def test_the_issue_example_is_fully_understood():
    parsed = parse(EXAMPLE)
    request = parsed.request
    assert (request.procedure, request.side, request.age_years, request.sex) == ("tha", "left", 68, "male")
    assert request.diagnoses == ["severe osteoarthritis", "developmental dysplasia of the hip"]
    assert request.classifications == ["Crowe II"]
    assert (request.stem_size_mm, request.stem_fixation) == (12.0, "press-fit")
    assert request.max_leg_length_discrepancy_mm == 5.0
    assert request.outputs == ["neck_osteotomy", "ream_angles"]
    assert request.target_angles.inclination_deg is None  # not asked for: the planner's default applies
    assert parsed.not_understood == []
    assert any("Crowe type II" in item.meaning for item in parsed.understood)


def test_parsing_is_deterministic_and_round_trips_through_dict():
    first, second = parse(EXAMPLE), parse(EXAMPLE)
    assert first.to_dict() == second.to_dict()
    assert PlanningRequest.from_dict(first.request.to_dict()) == first.request


def test_angles_heads_cups_and_definition():
    request = parse("THA right; cup inclination 42°, anteversion of 18 degrees (operative); 36 mm head; "
                    "54 mm cementless cup; offset change < 4 mm").request
    assert request.side == "right"
    assert (request.target_angles.inclination_deg, request.target_angles.anteversion_deg) == (42.0, 18.0)
    assert request.target_angles.definition == "operative"
    assert (request.head_diameter_mm, request.cup_diameter_mm, request.cup_fixation) == (36.0, 54.0, "press-fit")
    assert request.max_offset_change_mm == 4.0


def test_every_unread_part_is_listed():
    parsed = parse("THA left, banana smoothie, 12 mm press-fit stem and a titanium wobble, Crowe type II")
    assert parsed.not_understood == ["banana smoothie", "and a titanium wobble"]
    assert parsed.request.stem_size_mm == 12.0


@pytest.mark.parametrize("text, problem", [
    ("", "empty"),
    ("   \n ", "empty"),
    ("THA left, right side", "side is both 'left' and 'right'"),
    ("THA left, 68-year-old, aged 70", "age years is both"),
    ("THA left, 12 mm stem, 14 mm press-fit stem", "stem size mm is both"),
    ("THA left, 250-year-old female", "not plausible"),
    ("THA left, inclination 120°", "outside 0..90"),
    ("bilateral THA", "bilateral"),
    ("THA left, male, female", "sex is both"),
])
def test_malformed_or_contradictory_requests_are_errors(text, problem):
    with pytest.raises(RequestError, match=problem.replace("(", r"\(").replace(".", r"\.")):
        parse(text)


def test_request_must_agree_with_the_case():
    request = parse(EXAMPLE).request
    with pytest.raises(RequestError, match="plan was started for the right side"):
        check_against_case(request, procedure="tha", side="right")
    with pytest.raises(RequestError, match="no left hip bone"):
        check_against_case(parse(EXAMPLE).request, side="left", sides_in_image=("right",))
    with pytest.raises(RequestError, match="described as"):
        check_against_case(parse(EXAMPLE).request, image_description="CT RIGHT HIP")
    with pytest.raises(RequestError, match="asks for 'tka'"):
        check_against_case(parse("TKA left").request, procedure="tha")
    with pytest.raises(RequestError, match="neither in the request nor"):
        check_against_case(parse("THA, 60-year-old woman").request, procedure="tha")
    filled = check_against_case(parse("60-year-old woman, osteonecrosis").request, procedure="tha", side="right")
    assert (filled.procedure, filled.side, filled.diagnoses) == ("tha", "right", ["avascular necrosis of the femoral head"])


def test_language_model_backend_is_off_unless_configured(monkeypatch):
    monkeypatch.delenv(ENV_URL, raising=False)
    assert OpenAICompatibleParser.from_environment() is None
    monkeypatch.setenv(ENV_URL, "http://127.0.0.1:9/v1")
    monkeypatch.delenv(ENV_MODEL, raising=False)
    with pytest.raises(RequestError, match=ENV_MODEL):
        OpenAICompatibleParser.from_environment()
