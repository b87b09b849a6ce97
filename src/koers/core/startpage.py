"""The personal start page is assembled from sections that apps register.

Core owns the page; apps higher up the stack (crm, later pipeline and activities) add
what they know about the user, without core importing them.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from koers.core.models import User


@dataclass(frozen=True)
class StartSection:
    name: str
    template: str
    context: Callable[[User], dict[str, Any]]
    order: int = 100


_sections: dict[str, StartSection] = {}


def register(section: StartSection) -> None:
    _sections[section.name] = section


def sections_for(user: User) -> list[tuple[str, dict[str, Any]]]:
    return [
        (section.template, section.context(user))
        for section in sorted(_sections.values(), key=lambda s: s.order)
    ]
