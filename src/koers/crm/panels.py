"""Panels that apps higher up add to the page of a company, a contact or a deal.

crm owns the registry; pipeline and later apps add what they know about the record, such
as its deals or its timeline, without the app that draws the page importing them.
"""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import models

from koers.core.models import User


@dataclass(frozen=True)
class Panel:
    name: str
    template: str
    context: Callable[[User, models.Model], dict[str, Any]]
    order: int = 100


_panels: dict[str, dict[str, Panel]] = defaultdict(dict)  # "company", "contact", "deal"


def register(kind: str, panel: Panel) -> None:
    _panels[kind][panel.name] = panel


def panels_for(kind: str, *, user: User, record: models.Model) -> list[tuple[str, dict[str, Any]]]:
    return [
        (panel.template, panel.context(user, record))
        for panel in sorted(_panels[kind].values(), key=lambda panel: panel.order)
    ]
