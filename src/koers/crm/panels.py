"""Panels that apps higher up add to a company's or a contact's page.

crm owns the pages; pipeline (and later apps) add what they know about the record, such
as its deals, without crm importing them.
"""

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


_panels: dict[str, dict[str, Panel]] = {"company": {}, "contact": {}}


def register(kind: str, panel: Panel) -> None:
    _panels[kind][panel.name] = panel


def panels_for(kind: str, *, user: User, record: models.Model) -> list[tuple[str, dict[str, Any]]]:
    return [
        (panel.template, panel.context(user, record))
        for panel in sorted(_panels[kind].values(), key=lambda panel: panel.order)
    ]
