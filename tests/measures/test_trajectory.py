"""The trajectory chart and its table show the same numbers as the stored responses."""

import re
from datetime import timedelta

from django.utils import timezone

from kapflow.measures import services
from kapflow.measures.models import MeasureResponse


def make_history(world, totals):
    for index, total in enumerate(totals):
        answers = {f"q{n}": 0 for n in range(1, 10)}
        for n in range(total):
            answers[f"q{n % 8 + 1}"] += 1
        services.response_record_paper(
            member=world.therapist,
            patient=world.patient,
            instrument_key="phq9",
            answers=answers,
            answered_at=timezone.now() - timedelta(days=14 * (len(totals) - index)),
        )


def test_the_table_lists_every_stored_total_with_its_change_from_baseline(world, login):
    make_history(world, [18, 13, 9, 4])
    page = (
        login(world.therapist)
        .get(f"/c/demo/measures/patients/{world.patient.public_id}/trend/phq9/")
        .content.decode()
    )
    stored = list(MeasureResponse.objects.order_by("answered_at").values_list("total", flat=True))
    table = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    cells = re.findall(r"<td>(\d+)</td>", table)
    assert [int(c) for c in cells] == stored == [18, 13, 9, 4]
    assert "-5" in table and "-14" in table
    assert "Baseline 18" in page


def test_the_chart_is_an_svg_of_those_points(world, login):
    make_history(world, [18, 13, 9, 4])
    response = login(world.therapist).get(
        f"/c/demo/measures/patients/{world.patient.public_id}/trend/phq9/chart.svg"
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    svg = response.content.decode()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    assert "baseline" in svg and "Severe" in svg  # the baseline marker and the shaded bands


def test_a_correction_replaces_the_original_in_the_trend(world, login):
    make_history(world, [18, 13])
    original = MeasureResponse.objects.order_by("answered_at").last()
    assert original is not None
    services.response_correct(
        member=world.therapist,
        original=original,
        answers={f"q{n}": 1 for n in range(1, 9)} | {"q9": 0},
        reason="typo",
    )
    page = (
        login(world.therapist)
        .get(f"/c/demo/measures/patients/{world.patient.public_id}/trend/phq9/")
        .content.decode()
    )
    table = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    assert [int(c) for c in re.findall(r"<td>(\d+)</td>", table)] == [18, 8]
