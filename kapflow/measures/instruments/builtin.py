"""The instruments kapflow ships: PHQ-9, GAD-7, the C-SSRS screener and the MOAA/S.

Codes and cut-offs are those of docs/DOMAIN.md ("Instruments"). Licensed scales (CADSS,
MADRS...) are not shipped: a clinic with a licence uploads them as a custom definition.
"""

from __future__ import annotations

from kapflow.measures.instruments.model import (
    Band,
    FlagRule,
    Instrument,
    Item,
    Option,
    Rater,
    Scoring,
    Severity,
    ShowIf,
)

# The PHQ and GAD-7 answers, with their LOINC answer codes.
FREQUENCY = (
    Option(0, "Not at all", "LA6568-5"),
    Option(1, "Several days", "LA6569-3"),
    Option(2, "More than half the days", "LA6570-1"),
    Option(3, "Nearly every day", "LA6571-9"),
)
TWO_WEEKS = "Over the last 2 weeks, how often have you been bothered by any of the following problems?"

YES_NO = (Option(0, "No"), Option(1, "Yes"))


def _frequency_items(texts_and_codes: tuple[tuple[str, str], ...]) -> tuple[Item, ...]:
    return tuple(
        Item(id=f"q{n}", text=text, options=FREQUENCY, code=code)
        for n, (text, code) in enumerate(texts_and_codes, start=1)
    )


PHQ9 = Instrument(
    key="phq9",
    version="1",
    name="Patient Health Questionnaire-9",
    short_name="PHQ-9",
    rater=Rater.PATIENT,
    scoring=Scoring.SUM,
    intro=TWO_WEEKS,
    items=_frequency_items(
        (
            ("Little interest or pleasure in doing things", "44250-9"),
            ("Feeling down, depressed, or hopeless", "44255-8"),
            ("Trouble falling or staying asleep, or sleeping too much", "44259-0"),
            ("Feeling tired or having little energy", "44254-1"),
            ("Poor appetite or overeating", "44251-7"),
            (
                "Feeling bad about yourself, or that you are a failure or have let yourself or your family down",
                "44258-2",
            ),
            (
                "Trouble concentrating on things, such as reading the newspaper or watching television",
                "44252-5",
            ),
            (
                "Moving or speaking so slowly that other people could have noticed? Or the opposite, being so "
                "fidgety or restless that you have been moving around a lot more than usual",
                "44253-3",
            ),
            ("Thoughts that you would be better off dead, or of hurting yourself in some way", "44260-8"),
        )
    ),
    bands=(
        Band(0, 4, "Minimal"),
        Band(5, 9, "Mild"),
        Band(10, 14, "Moderate"),
        Band(15, 19, "Moderately severe"),
        Band(20, 27, "Severe"),
    ),
    flags=(
        FlagRule(
            id="phq9_item9",
            item="q9",
            min_value=1,
            severity=Severity.MODERATE,
            message=(
                "PHQ-9 item 9 (thoughts of being better off dead or of self-harm) was answered above "
                '"Not at all": a clinician needs to complete a suicide-risk assessment.'
            ),
        ),
        FlagRule(
            id="phq9_item9_high",
            item="q9",
            min_value=2,
            severity=Severity.HIGH,
            message=(
                "PHQ-9 item 9 (thoughts of being better off dead or of self-harm) was answered "
                '"More than half the days" or more: a clinician needs to complete a suicide-risk '
                "assessment without delay."
            ),
        ),
    ),
    loinc_panel="44249-1",
    loinc_total="44261-6",
    source=(
        "Kroenke K, Spitzer RL, Williams JBW. The PHQ-9: validity of a brief depression severity measure. "
        "J Gen Intern Med 2001;16(9):606-613. Developed with an educational grant from Pfizer Inc.; "
        "no permission is required to reproduce, translate, display or distribute it."
    ),
)

GAD7 = Instrument(
    key="gad7",
    version="1",
    name="Generalized Anxiety Disorder 7-item scale",
    short_name="GAD-7",
    rater=Rater.PATIENT,
    scoring=Scoring.SUM,
    intro=TWO_WEEKS,
    items=_frequency_items(
        (
            ("Feeling nervous, anxious, or on edge", "69725-0"),
            ("Not being able to stop or control worrying", "68509-9"),
            ("Worrying too much about different things", "69733-4"),
            ("Trouble relaxing", "69734-2"),
            ("Being so restless that it is hard to sit still", "69735-9"),
            ("Becoming easily annoyed or irritable", "69689-8"),
            ("Feeling afraid, as if something awful might happen", "69736-7"),
        )
    ),
    bands=(
        Band(0, 4, "Minimal"),
        Band(5, 9, "Mild"),
        Band(10, 14, "Moderate"),
        Band(15, 21, "Severe"),
    ),
    loinc_panel="69737-5",
    loinc_total="70274-6",
    source=(
        "Spitzer RL, Kroenke K, Williams JBW, Lowe B. A brief measure for assessing generalized anxiety "
        "disorder: the GAD-7. Arch Intern Med 2006;166(10):1092-1097. Developed with an educational grant "
        "from Pfizer Inc.; no permission is required to reproduce, translate, display or distribute it."
    ),
)

_IF_THOUGHTS = ShowIf("q2", frozenset({1}))  # Q3-Q5 are asked only after yes to Q2

CSSRS = Instrument(
    key="cssrs",
    version="1",
    name="Columbia-Suicide Severity Rating Scale, screen version",
    short_name="C-SSRS",
    rater=Rater.PATIENT,
    scoring=Scoring.CSSRS,
    intro=(
        "Questions 1 to 5 ask about the past month. Question 6 asks about your whole life, "
        "then whether it was within the past 3 months."
    ),
    items=(
        Item("q1", "Have you wished you were dead or wished you could go to sleep and not wake up?", YES_NO),
        Item("q2", "Have you actually had any thoughts of killing yourself?", YES_NO),
        Item("q3", "Have you been thinking about how you might do this?", YES_NO, show_if=_IF_THOUGHTS),
        Item(
            "q4",
            "Have you had these thoughts and had some intention of acting on them?",
            YES_NO,
            show_if=_IF_THOUGHTS,
        ),
        Item(
            "q5",
            "Have you started to work out or worked out the details of how to kill yourself? "
            "Do you intend to carry out this plan?",
            YES_NO,
            show_if=_IF_THOUGHTS,
        ),
        Item(
            "q6",
            "Have you ever done anything, started to do anything, or prepared to do anything to end your life? "
            "Examples: collected pills, obtained a gun, gave away valuables, wrote a will or suicide note, "
            "took out pills but didn't swallow any, held a gun but changed your mind or it was grabbed from "
            "your hand, went to the roof but didn't jump; or actually took pills, tried to shoot yourself, "
            "cut yourself, tried to hang yourself, etc.",
            YES_NO,
        ),
        Item("q6b", "Was this within the past 3 months?", YES_NO, show_if=ShowIf("q6", frozenset({1}))),
    ),
    source=(
        "Posner K, Brown GK, Stanley B, et al. The Columbia-Suicide Severity Rating Scale: initial validity "
        "and internal consistency findings from three multisite studies with adolescents and adults. "
        "Am J Psychiatry 2011;168(12):1266-1277. Screen version, past month (The Columbia Lighthouse Project). "
        "Risk: high = yes to Q4 or Q5, or behaviour in the past 3 months; moderate = yes to Q3, or "
        "behaviour in the lifetime; low = yes to Q1 or Q2 only."
    ),
)

MOAAS = Instrument(
    key="moaas",
    version="1",
    name="Modified Observer's Assessment of Alertness/Sedation",
    short_name="MOAA/S",
    rater=Rater.OBSERVER,
    scoring=Scoring.SINGLE,
    intro="Rate the patient's responsiveness now.",
    items=(
        Item(
            "moaas",
            "Responsiveness",
            (
                Option(5, "Responds readily to name spoken in normal tone"),
                Option(4, "Lethargic response to name spoken in normal tone"),
                Option(3, "Responds only after name is called loudly and/or repeatedly"),
                Option(2, "Responds only after mild prodding or shaking"),
                Option(1, "Responds only after painful trapezius squeeze"),
                Option(0, "No response after painful trapezius squeeze"),
            ),
        ),
    ),
    bands=(
        Band(5, 5, "Awake"),
        Band(4, 4, "Light sedation"),
        Band(2, 3, "Moderate sedation"),
        Band(0, 1, "Deep sedation"),
    ),
    source=(
        "Chernik DA, Gillings D, Laine H, et al. Validity and reliability of the Observer's Assessment of "
        "Alertness/Sedation Scale: study with intravenous midazolam. J Clin Psychopharmacol 1990;10(4):244-251. "
        "Modified form (MOAA/S, 5 = awake to 0 = no response) as used in the Spravato REMS monitoring."
    ),
)

BUILT_IN: dict[str, Instrument] = {instrument.key: instrument for instrument in (PHQ9, GAD7, CSSRS, MOAAS)}
