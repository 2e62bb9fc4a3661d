"""The reporting period: two local dates, both days counted in full."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

EARLIEST = date(2000, 1, 1)
LATEST = date(2999, 12, 31)


class PeriodForm(forms.Form):
    start = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("Until (inclusive)"), widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        for name in ("start", "end"):
            value = data.get(name)
            if value is not None and not EARLIEST <= value <= LATEST:
                self.add_error(name, _("Give a date between 2000 and 2999."))
        if start and end and end < start:
            self.add_error("end", _("The period must end on or after the day it starts."))
        return data

    def bounds(self) -> tuple[datetime, datetime]:
        """[start of the first day, start of the day after the last) in the clinic's time zone."""
        start = timezone.make_aware(datetime.combine(self.cleaned_data["start"], time(0)))
        end = timezone.make_aware(datetime.combine(self.cleaned_data["end"] + timedelta(days=1), time(0)))
        return start, end


def default_period() -> dict[str, date]:
    """The last twelve months up to today."""
    today = timezone.localdate()
    try:
        year_ago = today.replace(year=today.year - 1)
    except ValueError:  # 29 February: a year before is 28 February
        year_ago = today.replace(year=today.year - 1, day=28)
    return {"start": year_ago + timedelta(days=1), "end": today}


def period_from(query: Any) -> PeriodForm:
    """The period in the query string, or the default one when none is given."""
    if "start" in query or "end" in query:
        return PeriodForm(query)
    return PeriodForm(default_period())
