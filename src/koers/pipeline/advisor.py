"""The sales-model advisor: seed 003's four questions give the way a team sells.

Each answer gives points to the models it points to; the model with most points is the
advice, the next one the runner-up, and every point comes with the reason behind it.
"""

from dataclasses import dataclass, field

from django.db import models
from django.utils.translation import gettext_lazy as _

from koers.pipeline.models import SalesModel


class LeadOrigin(models.TextChoices):
    INBOUND = "inbound", _("Most leads come to us (website, content, forms)")
    OUTBOUND = "outbound", _("We find most leads ourselves (calling, emailing, networking)")
    MIXED = "mixed", _("About half and half")


class ExistingRevenue(models.TextChoices):
    LOW = "low", _("Less than half")
    HALF = "half", _("Half to 80%")
    HIGH = "high", _("More than 80%")


class PeoplePerSale(models.TextChoices):
    ONE = "one", _("One salesperson does it all")
    TEAM = "team", _("Several colleagues work on each sale")


class PeopleAtAccount(models.TextChoices):
    FEW = "few", _("One or two people decide")
    MANY = "many", _("Many stakeholders at a few chosen accounts")


# (question, answer) → [(model, points, reason)]
RULES = {
    ("lead_origin", LeadOrigin.INBOUND): [
        (SalesModel.INBOUND, 3, _("Most of your leads come to you, so your process starts by qualifying them.")),
    ],
    ("lead_origin", LeadOrigin.OUTBOUND): [
        (SalesModel.OUTBOUND, 3, _("Your people find their own leads, so your process starts with prospecting and making contact.")),
        (SalesModel.ACCOUNT_BASED, 1, _("You choose whom to approach, which account-based selling builds on.")),
    ],
    ("lead_origin", LeadOrigin.MIXED): [
        (SalesModel.INBOUND, 1, _("Part of your leads come to you.")),
        (SalesModel.OUTBOUND, 1, _("Part of your leads you find yourselves.")),
    ],
    ("existing_revenue", ExistingRevenue.HALF): [
        (SalesModel.RELATIONSHIP, 2, _("A good part of your revenue comes from existing customers.")),
    ],
    ("existing_revenue", ExistingRevenue.HIGH): [
        (SalesModel.RELATIONSHIP, 5, _("Nearly all your revenue comes from existing customers: the work goes on after the sale, with check-ins and upsell.")),
    ],
    ("people_per_sale", PeoplePerSale.TEAM): [
        (SalesModel.TEAM, 5, _("Several colleagues work on each sale, so the team researches and plans together.")),
        (SalesModel.ACCOUNT_BASED, 1, _("A team per account is how account-based selling works.")),
    ],
    ("people_at_account", PeopleAtAccount.FEW): [
        (SalesModel.INBOUND, 1, _("One or two people decide, so finding the right person is enough.")),
        (SalesModel.OUTBOUND, 1, _("One or two people decide, so finding the right person is enough.")),
    ],
    ("people_at_account", PeopleAtAccount.MANY): [
        (SalesModel.ACCOUNT_BASED, 6, _("Many stakeholders at a few accounts: map them all and plan before the first call.")),
        (SalesModel.TEAM, 1, _("Many stakeholders are easier to reach as a team.")),
    ],
}  # fmt: skip
# When points are equal, the simpler process comes first.
TIE_ORDER = [
    SalesModel.INBOUND,
    SalesModel.OUTBOUND,
    SalesModel.RELATIONSHIP,
    SalesModel.TEAM,
    SalesModel.ACCOUNT_BASED,
]


@dataclass
class Score:
    model: str
    points: int = 0
    reasons: list = field(default_factory=list)

    @property
    def label(self) -> str:
        return SalesModel(self.model).label


@dataclass(frozen=True)
class Advice:
    recommended: Score
    runner_up: Score


def advise(
    *, lead_origin: str, existing_revenue: str, people_per_sale: str, people_at_account: str
) -> Advice:
    """Return the recommended sales model and the runner-up, each with its reasons."""
    scores = {model: Score(model) for model in TIE_ORDER}
    answers = {
        "lead_origin": lead_origin,
        "existing_revenue": existing_revenue,
        "people_per_sale": people_per_sale,
        "people_at_account": people_at_account,
    }
    for question, answer in answers.items():
        for model, points, reason in RULES.get((question, answer), []):
            scores[model].points += points
            scores[model].reasons.append(reason)
    ranked = sorted(
        scores.values(), key=lambda score: (-score.points, TIE_ORDER.index(score.model))
    )
    return Advice(recommended=ranked[0], runner_up=ranked[1])
