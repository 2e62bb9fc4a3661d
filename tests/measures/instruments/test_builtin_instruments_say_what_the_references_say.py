"""The shipped instruments: wording, answers, LOINC codes, skip logic and sources (DOMAIN.md)."""

from __future__ import annotations

import pytest

from kapflow.measures.instruments.builtin import BUILT_IN
from kapflow.measures.instruments.model import Rater, Scoring, ShowIf

PHQ9, GAD7, CSSRS, MOAAS = (BUILT_IN[key] for key in ("phq9", "gad7", "cssrs", "moaas"))
FREQUENCY = [
    (0, "Not at all", "LA6568-5"),
    (1, "Several days", "LA6569-3"),
    (2, "More than half the days", "LA6570-1"),
    (3, "Nearly every day", "LA6571-9"),
]


def test_the_built_ins_are_phq9_gad7_cssrs_and_moaas_each_under_its_own_key():
    assert list(BUILT_IN) == ["phq9", "gad7", "cssrs", "moaas"]
    assert all(instrument.key == key for key, instrument in BUILT_IN.items())


@pytest.mark.parametrize(
    ("key", "author"), [("phq9", "Kroenke"), ("gad7", "Spitzer"), ("cssrs", "Posner"), ("moaas", "Chernik")]
)
def test_every_built_in_is_version_1_and_names_its_reference(key, author):
    assert BUILT_IN[key].version == "1"
    assert author in BUILT_IN[key].source


def test_the_phq9_asks_nine_items_about_the_last_two_weeks():
    assert (
        PHQ9.intro
        == "Over the last 2 weeks, how often have you been bothered by any of the following problems?"
    )
    assert [item.id for item in PHQ9.items] == [f"q{n}" for n in range(1, 10)]
    assert PHQ9.items[0].text == "Little interest or pleasure in doing things"
    assert PHQ9.items[1].text == "Feeling down, depressed, or hopeless"
    assert (
        PHQ9.item("q9").text
        == "Thoughts that you would be better off dead, or of hurting yourself in some way"
    )
    assert (PHQ9.rater, PHQ9.scoring) == (Rater.PATIENT, Scoring.SUM)


def test_the_phq9_loinc_codes_are_those_of_domain_md():
    assert [item.code for item in PHQ9.items] == [
        "44250-9",
        "44255-8",
        "44259-0",
        "44254-1",
        "44251-7",
        "44258-2",
        "44252-5",
        "44253-3",
        "44260-8",
    ]
    assert (PHQ9.loinc_panel, PHQ9.loinc_total) == ("44249-1", "44261-6")


@pytest.mark.parametrize("key", ["phq9", "gad7"])
def test_every_phq9_and_gad7_item_offers_the_four_frequencies_with_their_answer_codes(key):
    for item in BUILT_IN[key].items:
        assert [(o.value, o.label, o.code) for o in item.options] == FREQUENCY
        assert item.show_if is None


def test_the_gad7_asks_seven_items_with_the_loinc_codes_of_domain_md():
    assert [item.id for item in GAD7.items] == [f"q{n}" for n in range(1, 8)]
    assert [item.code for item in GAD7.items] == [
        "69725-0",
        "68509-9",
        "69733-4",
        "69734-2",
        "69735-9",
        "69689-8",
        "69736-7",
    ]
    assert (GAD7.loinc_panel, GAD7.loinc_total) == ("69737-5", "70274-6")
    assert GAD7.items[0].text == "Feeling nervous, anxious, or on edge"
    assert GAD7.flags == ()


def test_the_cssrs_screener_has_seven_yes_no_items_with_its_skip_logic():
    assert CSSRS.scoring is Scoring.CSSRS
    assert [item.id for item in CSSRS.items] == ["q1", "q2", "q3", "q4", "q5", "q6", "q6b"]
    for item in CSSRS.items:
        assert [(o.value, o.label) for o in item.options] == [(0, "No"), (1, "Yes")]
    show_if = {item.id: item.show_if for item in CSSRS.items}
    after_yes_to_q2 = ShowIf("q2", frozenset({1}))
    assert show_if == {
        "q1": None,
        "q2": None,
        "q3": after_yes_to_q2,
        "q4": after_yes_to_q2,
        "q5": after_yes_to_q2,
        "q6": None,
        "q6b": ShowIf("q6", frozenset({1})),
    }
    assert CSSRS.bands == () and CSSRS.flags == ()


def test_the_cssrs_uses_the_screeners_wording():
    assert CSSRS.item("q1").text.startswith("Have you wished you were dead")
    assert CSSRS.item("q2").text == "Have you actually had any thoughts of killing yourself?"
    assert "intention of acting on them" in CSSRS.item("q4").text
    assert CSSRS.item("q6").text.startswith("Have you ever done anything")
    assert CSSRS.item("q6b").text == "Was this within the past 3 months?"
    assert "past month" in CSSRS.intro
