"""What activities adds to the start page and to company, contact and deal pages."""

from collections.abc import Callable

from django.db import models

from koers.activities import selectors, timeline
from koers.activities.forms import AccountTeamForm, QuickLogForm, TaskForm
from koers.core.models import User
from koers.crm.models import Company


def start_section_context(user: User) -> dict:
    return {"day": selectors.my_day(user=user, upcoming_days=0)}


def account_team_panel(user: User, company: Company) -> dict:
    return {
        "company": company,
        "members": list(selectors.account_team(company=company)),
        "form": AccountTeamForm(),
    }


def timeline_panel(subject: timeline.Subject) -> Callable[[User, models.Model], dict]:
    def context(user: User, record: models.Model) -> dict:
        return {
            "subject": subject,
            "record": record,
            "page": timeline.timeline_page(user=user, subject=subject, record_id=record.pk),
            "planned": list(selectors.planned_for(subject=subject, record_id=record.pk)[:20]),
            "kinds": timeline.kind_choices(),
            "kind": "",
            "log_form": QuickLogForm(),
            "task_form": TaskForm(),
        }

    return context
