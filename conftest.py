"""Fixtures shared by every app's tests: teams, users in each role, logged-in clients."""

import pytest
from django.test import Client

from koers.core.factories import DEMO_PASSWORD, TeamFactory, UserFactory
from koers.core.models import User


@pytest.fixture
def team_a(db):
    return TeamFactory(name="Sales Noord")


@pytest.fixture
def team_b(db):
    return TeamFactory(name="Sales Zuid")


@pytest.fixture
def make_user(db):
    def make(role=User.Role.SALES, team=None, **fields):
        return UserFactory(role=role, team=team, **fields)

    return make


@pytest.fixture
def sales_a(make_user, team_a):
    return make_user(
        User.Role.SALES, team_a, username="daan", first_name="Daan", last_name="Bakker"
    )


@pytest.fixture
def colleague_a(make_user, team_a):
    return make_user(
        User.Role.SALES, team_a, username="yara", first_name="Yara", last_name="El Amrani"
    )


@pytest.fixture
def sales_b(make_user, team_b):
    return make_user(
        User.Role.SALES, team_b, username="fleur", first_name="Fleur", last_name="Visser"
    )


@pytest.fixture
def manager(make_user, team_a):
    return make_user(
        User.Role.MANAGER, team_a, username="sanne", first_name="Sanne", last_name="de Vries"
    )


@pytest.fixture
def admin_user(make_user):
    return make_user(
        User.Role.ADMIN, None, username="anouk", first_name="Anouk", last_name="Jansen"
    )


@pytest.fixture
def read_only_a(make_user, team_a):
    return make_user(
        User.Role.READ_ONLY, team_a, username="kees", first_name="Kees", last_name="de Boer"
    )


@pytest.fixture
def client_for(db):
    """Return a test client logged in as the given user, in the given language."""

    def make(user, language="en"):
        client = Client()
        client.force_login(user)
        user.language = language
        user.save(update_fields=["language"])
        return client

    return make


@pytest.fixture
def demo_password():
    return DEMO_PASSWORD
