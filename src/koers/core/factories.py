"""Factories for users and teams, shared by the tests and the demo data."""

from functools import cache

import factory
from django.contrib.auth.hashers import make_password

from koers.core.models import Team, User

DEMO_PASSWORD = "koers-demo"  # noqa: S105 (printed by `make run`; demo users only)


@cache
def _hashed(password: str) -> str:
    # Argon2 is slow on purpose; hash once, not once per user.
    return make_password(password)


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"Team {n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ["username"]

    first_name = factory.Faker("first_name", locale="nl_NL")
    last_name = factory.Faker("last_name", locale="nl_NL")
    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@stroomlijn.nl")
    role = User.Role.SALES
    password = factory.LazyFunction(lambda: _hashed(DEMO_PASSWORD))
    is_staff = factory.LazyAttribute(lambda user: user.role == User.Role.ADMIN)
    is_superuser = factory.LazyAttribute(lambda user: user.role == User.Role.ADMIN)
