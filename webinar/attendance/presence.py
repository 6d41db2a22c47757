"""Minutes present at a meeting, from whatever the attendance record knows.

One rule per source, so that the certificate of attendance, the pages and the
tests all count the same way (minutes are whole, and never more than the
meeting's length):

| what the record holds                           | minutes present                                   |
|-------------------------------------------------|---------------------------------------------------|
| a Teams or Zoom report with minutes             | the report's minutes                              |
| a report with join times but no minutes         | from the first join (or the start) to the end     |
| clicks on the personal join link                | from the first click (or the start) to the end    |
| a report with neither, or marked present by hand| the whole meeting                                 |
| nothing                                         | 0                                                 |

A click on the join link tells when someone came in, not when they left; the
meeting runs on without a trace of leaving, so the time to the end counts.
A report with minutes is better evidence and wins: importing one sets the
record's source to "report" (see attendance/services.py). A report without
times and an entry by hand store the event's start as the join time: the
organiser who uploads or marks vouches for presence, and the whole meeting
counts.
"""

from __future__ import annotations

from ..events.models import DEFAULT_CERTIFICATE_PERCENT, Event
from .models import Attendance, AttendanceSource


def minutes_present(attendance: Attendance | None, event: Event) -> int:
    """Whole minutes present at the event, by the rules above."""
    length = event.length_minutes()
    if attendance is None:
        return 0
    if attendance.source == AttendanceSource.report and attendance.minutes_present is not None:
        return max(0, min(attendance.minutes_present, length))
    if attendance.source == AttendanceSource.manual:
        return length
    came = max(attendance.first_joined_at, event.starts_at)
    return max(0, min(int((event.ends_at - came).total_seconds() // 60), length))


def presence_minimum(event: Event) -> int:
    """The minutes that count as present for reports: the certificate's minimum where the certificate is on,
    else DEFAULT_CERTIFICATE_PERCENT of the meeting's length (rounded up, as for the certificate)."""
    if event.certificate_enabled:
        return event.certificate_min_minutes()
    return event.percent_of_length(DEFAULT_CERTIFICATE_PERCENT)


def present_at_least(attendance: Attendance | None, event: Event, minimum: int) -> bool:
    """Whether the record shows someone present at least `minimum` minutes (see `presence_minimum`)."""
    return attendance is not None and minutes_present(attendance, event) >= minimum
