from django.conf import settings
from django.core.mail import EmailMessage
from django.utils import translation
from django.utils.translation import gettext as _
from huey.contrib.djhuey import db_task

from koers.activities import ics
from koers.activities.models import Activity


@db_task()
def meeting_invite_send(meeting_id: int) -> bool:
    """Mail a booked meeting to the account executive as a calendar invitation."""
    meeting = Activity.objects.select_related("owner", "company").filter(pk=meeting_id).first()
    if meeting is None or meeting.owner is None or not meeting.owner.email:
        return False
    with translation.override(meeting.owner.language or settings.LANGUAGE_CODE):
        message = EmailMessage(
            subject=meeting.subject,
            body=_("A meeting was booked for you. The invitation is attached.")
            + (f"\n\n{meeting.body}" if meeting.body else ""),
            to=[meeting.owner.email],
        )
    message.attach("meeting.ics", ics.invite(meeting), "text/calendar; method=PUBLISH")
    message.send()
    return True
