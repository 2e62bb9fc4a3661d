"""Every possible total of a built-in instrument falls in exactly one of its bands."""

from __future__ import annotations

import pytest

from kapflow.measures.instruments.builtin import BUILT_IN

WITH_BANDS = [key for key, instrument in BUILT_IN.items() if instrument.bands]


def test_every_built_in_but_the_cssrs_has_bands():
    assert sorted(WITH_BANDS) == ["gad7", "moaas", "phq9"]


@pytest.mark.parametrize(
    ("key", "low", "high"), [("phq9", 0, 27), ("gad7", 0, 21), ("moaas", 0, 5), ("cssrs", None, None)]
)
def test_the_possible_totals_of_each_built_in(key, low, high):
    assert (BUILT_IN[key].min_total, BUILT_IN[key].max_total) == (low, high)


@pytest.mark.parametrize("key", WITH_BANDS)
def test_each_possible_total_is_in_exactly_one_band(key):
    instrument = BUILT_IN[key]
    assert instrument.min_total is not None and instrument.max_total is not None
    for total in range(instrument.min_total, instrument.max_total + 1):
        assert sum(band.low <= total <= band.high for band in instrument.bands) == 1, total


@pytest.mark.parametrize("key", WITH_BANDS)
def test_no_band_reaches_outside_the_possible_totals(key):
    instrument = BUILT_IN[key]
    assert min(band.low for band in instrument.bands) == instrument.min_total
    assert max(band.high for band in instrument.bands) == instrument.max_total
    assert all(band.low <= band.high for band in instrument.bands)
