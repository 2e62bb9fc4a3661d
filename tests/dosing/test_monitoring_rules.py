"""The monitoring timeline (kapflow.dosing.monitoring): which checks are upcoming, due, overdue,
done or missed, and which scheduled check a recorded entry counts for."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kapflow.dosing.monitoring import EARLY, GRACE, Due, DueState, timeline
from kapflow.dosing.protocol import CheckKind

VITALS, MOAAS, DISSOCIATION = CheckKind.VITALS, CheckKind.MOAAS, CheckKind.DISSOCIATION
START = datetime(2025, 5, 1, 10, 0, tzinfo=UTC)  # the first administration


def at(minutes: float, seconds: int = 0) -> datetime:
    return START + timedelta(minutes=minutes, seconds=seconds)


def states(result: list[Due]) -> dict[tuple[CheckKind, int], DueState]:
    return {(d.kind, d.minute): d.state for d in result}


def vitals_states(minutes: list[int], entries: list[datetime], now: datetime) -> list[DueState]:
    return [d.state for d in timeline({VITALS: minutes}, START, {VITALS: entries}, now)]


def test_the_early_and_grace_windows_are_five_minutes():
    assert EARLY == GRACE == timedelta(minutes=5)


# --- One check, no entries: the state moves with the clock ---------------------------------------


@pytest.mark.parametrize(
    ("now", "state"),
    [
        (at(0), DueState.UPCOMING),
        (at(14, 59), DueState.UPCOMING),  # one second before the early window opens
        (at(15), DueState.DUE),  # exactly 5 minutes before its time
        (at(20), DueState.DUE),
        (at(25), DueState.DUE),  # exactly 5 minutes after its time: still due
        (at(25, 1), DueState.OVERDUE),
        (at(120), DueState.OVERDUE),
    ],
)
def test_a_check_is_upcoming_then_due_from_5_minutes_before_then_overdue_after_5_minutes(now, state):
    assert vitals_states([20], [], now) == [state]


def test_the_check_at_minute_zero_is_due_at_the_first_administration():
    assert vitals_states([0, 20], [], START) == [DueState.DUE, DueState.UPCOMING]


def test_each_check_carries_its_time_and_kind():
    [due] = timeline({VITALS: [20]}, START, {}, at(0))
    assert (due.kind, due.minute, due.due_at, due.done_at) == (VITALS, 20, at(20), None)


# --- Which check an entry counts for ------------------------------------------------------------


def test_an_entry_on_time_marks_its_check_done_with_its_time():
    [due] = timeline({VITALS: [20]}, START, {VITALS: [at(21)]}, at(22))
    assert due.state == DueState.DONE
    assert due.done_at == at(21)


def test_an_entry_exactly_5_minutes_early_counts():
    assert vitals_states([20], [at(15)], at(16)) == [DueState.DONE]


def test_an_entry_more_than_5_minutes_early_does_not_count():
    assert vitals_states([20], [at(14, 59)], at(16)) == [DueState.DUE]


def test_an_entry_before_the_first_administration_fills_nothing():
    assert vitals_states([0], [at(-6)], at(1)) == [DueState.DUE]
    assert vitals_states([0], [at(-5)], at(1)) == [DueState.DONE]  # within the early window


def test_an_entry_during_the_grace_period_counts():
    assert vitals_states([20], [at(25)], at(26)) == [DueState.DONE]


def test_an_entry_long_after_its_time_still_fills_the_open_check():
    [due] = timeline({VITALS: [20]}, START, {VITALS: [at(50)]}, at(60))
    assert (due.state, due.done_at) == (DueState.DONE, at(50))


def test_a_late_entry_fills_its_own_check_and_marks_the_skipped_one_missed():
    result = timeline({VITALS: [0, 20, 40]}, START, {VITALS: [at(0, 30), at(41)]}, at(45))
    assert [(d.minute, d.state, d.done_at) for d in result] == [
        (0, DueState.DONE, at(0, 30)),
        (20, DueState.MISSED, None),
        (40, DueState.DONE, at(41)),
    ]


def test_an_entry_in_the_early_window_of_the_next_check_fills_the_next_check():
    # at minute 16 the 20-minute check is open, so the entry counts for it, not the skipped one
    assert vitals_states([0, 20], [at(16)], at(17)) == [DueState.MISSED, DueState.DONE]


def test_a_repeat_reading_does_not_fill_an_earlier_missed_check():
    # the 20-minute check was skipped; the 40-minute BP was high and repeated at 45 minutes
    result = timeline({VITALS: [0, 20, 40, 60]}, START, {VITALS: [at(0), at(41), at(45)]}, at(46))
    assert [(d.minute, d.state) for d in result] == [
        (0, DueState.DONE),
        (20, DueState.MISSED),
        (40, DueState.DONE),
        (60, DueState.UPCOMING),
    ]
    assert result[2].done_at == at(41)


def test_a_second_entry_for_the_same_check_is_not_counted_twice():
    assert vitals_states([0, 20], [at(0), at(1)], at(2)) == [DueState.DONE, DueState.UPCOMING]


def test_entries_are_matched_in_time_order_whatever_order_they_are_given_in():
    entries = [at(41), at(0, 30), at(20)]
    assert vitals_states([0, 20, 40], entries, at(45)) == [DueState.DONE] * 3


def test_an_overdue_check_becomes_missed_once_a_later_check_is_done():
    assert vitals_states([0, 20, 40], [at(0)], at(30)) == [DueState.DONE, DueState.OVERDUE, DueState.UPCOMING]
    assert vitals_states([0, 20, 40], [at(0), at(38)], at(39)) == [
        DueState.DONE,
        DueState.MISSED,
        DueState.DONE,
    ]


def test_checks_after_the_last_done_one_follow_the_clock_not_missed():
    result = vitals_states([0, 20, 40, 60], [at(0), at(20)], at(50))
    assert result == [DueState.DONE, DueState.DONE, DueState.OVERDUE, DueState.UPCOMING]


def test_entries_of_one_kind_never_fill_checks_of_another():
    result = timeline({VITALS: [20], MOAAS: [20]}, START, {MOAAS: [at(20)]}, at(21))
    assert states(result) == {(MOAAS, 20): DueState.DONE, (VITALS, 20): DueState.DUE}


def test_entries_of_a_kind_the_protocol_does_not_schedule_are_ignored():
    result = timeline({VITALS: [0]}, START, {DISSOCIATION: [at(0)]}, at(1))
    assert [(d.kind, d.state) for d in result] == [(VITALS, DueState.DUE)]


# --- Several kinds ------------------------------------------------------------------------------


def test_checks_of_several_kinds_are_listed_in_time_order():
    schedule = {VITALS: [40, 0, 20], MOAAS: [20, 30], DISSOCIATION: [45]}
    result = timeline(schedule, START, {}, START)
    assert [(d.minute, str(d.kind)) for d in result] == [
        (0, "vitals"),
        (20, "moaas"),
        (20, "vitals"),
        (30, "moaas"),
        (40, "vitals"),
        (45, "dissociation"),
    ]


def test_an_empty_schedule_gives_an_empty_timeline():
    assert timeline({}, START, {VITALS: [at(0)]}, at(1)) == []


# --- Properties ---------------------------------------------------------------------------------

schedules = st.dictionaries(
    st.sampled_from(list(CheckKind)),
    st.lists(st.integers(min_value=0, max_value=240), min_size=1, max_size=8, unique=True),
    min_size=1,
)
offsets = st.integers(min_value=-15 * 60, max_value=300 * 60)  # seconds from the first administration
entry_lists = st.dictionaries(
    st.sampled_from(list(CheckKind)),
    st.lists(offsets.map(lambda s: START + timedelta(seconds=s)), max_size=12),
)
nows = offsets.map(lambda s: START + timedelta(seconds=s))


@given(schedules, entry_lists, nows)
def test_property_every_scheduled_check_appears_exactly_once_in_time_order(schedule, entries, now):
    result = timeline(schedule, START, entries, now)
    listed = [(d.kind, d.minute) for d in result]
    assert len(listed) == len(set(listed))
    assert set(listed) == {(kind, m) for kind, minutes in schedule.items() for m in minutes}
    assert listed == [(d.kind, d.minute) for d in sorted(result, key=lambda d: (d.due_at, str(d.kind)))]
    assert all(d.due_at == START + timedelta(minutes=d.minute) for d in result)


@given(schedules, entry_lists, nows)
def test_property_each_entry_fills_at_most_one_check(schedule, entries, now):
    result = timeline(schedule, START, entries, now)
    for kind in schedule:
        done = [d for d in result if d.kind == kind and d.state == DueState.DONE]
        used = Counter(d.done_at for d in done)
        available = Counter(entries.get(kind, []))
        assert all(used[t] <= available[t] for t in used)
        assert len(done) <= len(entries.get(kind, []))
    total_entries = sum(len(entries.get(kind, [])) for kind in schedule)
    assert sum(d.state == DueState.DONE for d in result) <= total_entries


@given(schedules, entry_lists, nows)
def test_property_done_checks_are_filled_in_time_order_and_never_too_early(schedule, entries, now):
    result = timeline(schedule, START, entries, now)
    for kind in schedule:
        mine = [d for d in result if d.kind == kind]
        done = [d for d in mine if d.state == DueState.DONE]
        for d in done:
            assert d.done_at is not None and d.done_at >= d.due_at - EARLY
        times = [d.done_at for d in done if d.done_at is not None]
        assert times == sorted(times)  # a later check is never done before an earlier one
        last_done = max((d.minute for d in done), default=-1)
        for d in mine:
            assert (d.state == DueState.MISSED) == (d.state != DueState.DONE and d.minute < last_done)
            if d.state not in (DueState.DONE, DueState.MISSED):
                if now < d.due_at - EARLY:
                    assert d.state == DueState.UPCOMING
                elif now <= d.due_at + GRACE:
                    assert d.state == DueState.DUE
                else:
                    assert d.state == DueState.OVERDUE


@given(schedules, entry_lists, nows, st.integers(min_value=0, max_value=60 * 60))
def test_property_a_later_entry_never_rewrites_what_was_done_or_missed(schedule, entries, now, after):
    """Recording one more entry (after all the others) keeps every done check done at the same
    time and every missed check missed."""
    latest = max((t for ts in entries.values() for t in ts), default=START)
    extra = latest + timedelta(seconds=after)
    before = timeline(schedule, START, entries, now)
    more = {kind: [*entries.get(kind, []), extra] for kind in CheckKind}
    after_result = timeline(schedule, START, more, max(now, extra))
    new = {(d.kind, d.minute): d for d in after_result}
    for d in before:
        if d.state == DueState.DONE:
            assert new[(d.kind, d.minute)].state == DueState.DONE
            assert new[(d.kind, d.minute)].done_at == d.done_at
        if d.state == DueState.MISSED:
            assert new[(d.kind, d.minute)].state == DueState.MISSED
