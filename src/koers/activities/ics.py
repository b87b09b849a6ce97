"""A planned activity as an iCalendar (RFC 5545) invitation."""

from datetime import UTC, datetime, timedelta

from django.utils import timezone

from koers.activities.models import Activity

DEFAULT_LENGTH = timedelta(minutes=30)


def _text(value: str) -> str:
    """Escape a TEXT value (RFC 5545 §3.3.11)."""
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
    )


def _fold(line: str) -> str:
    """Fold a content line at 75 octets (RFC 5545 §3.1), never inside a character."""
    out, current = [], ""
    for char in line:
        if len((current + char).encode()) > 75:
            out.append(current)
            current = " "
        current += char
    out.append(current)
    return "\r\n".join(out)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def invite(activity: Activity, *, host: str = "koers", length: timedelta = DEFAULT_LENGTH) -> str:
    """The activity as a VEVENT for the calendar of the person it is for."""
    start = activity.due_at
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Koers//Koers CRM//EN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:activity-{activity.pk}@{host.split(':')[0]}",
        f"DTSTAMP:{_stamp(timezone.now())}",
        f"DTSTART:{_stamp(start)}",
        f"DTEND:{_stamp(start + length)}",
        f"SUMMARY:{_text(activity.subject)}",
    ]
    if activity.body:
        lines.append(f"DESCRIPTION:{_text(activity.body)}")
    if activity.company_id:
        lines.append(f"LOCATION:{_text(str(activity.company))}")
    if activity.owner and activity.owner.email:
        lines.append(f"ATTENDEE;CN={_text(str(activity.owner))}:mailto:{activity.owner.email}")
    lines += ["END:VEVENT", "END:VCALENDAR"]
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"
