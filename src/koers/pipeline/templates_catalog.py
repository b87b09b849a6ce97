"""The sales-model templates: a ready pipeline for each way of selling in seed 003.

Data, not code paths. A stage's name follows the user's language until someone renames
it; its requirements are what a deal must have before it may enter the stage.
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

OPEN, WON, LOST, POST_SALE = "open", "won", "lost", "post_sale"
AMOUNT, CLOSE, CONTACTS, DECISION_MAKER = (
    "amount",
    "expected_close_on",
    "contacts",
    "decision_maker",
)

STAGE_NAMES = {
    "prospect": _("Prospect"),
    "make_contact": _("Make contact"),
    "qualify": _("Qualify"),
    "needs_analysis": _("Needs analysis"),
    "meeting": _("Meeting"),
    "research": _("Research"),
    "solution_design": _("Solution design"),
    "identify_target_account": _("Identify target account"),
    "build_stakeholder_list": _("Build stakeholder list"),
    "compile_initial_strategy": _("Compile initial strategy"),
    "contact_stakeholders": _("Contact stakeholders"),
    "pitch": _("Pitch"),
    "new": _("New"),
    "quote_sent": _("Quote sent"),
    "proposal": _("Proposal"),
    "negotiation": _("Negotiation"),
    "won": _("Won"),
    "lost": _("Lost"),
    "first_check_in": _("First check-in"),
    "upsell": _("Upsell"),
}


@dataclass(frozen=True)
class StageTemplate:
    key: str
    kind: str
    probability: int
    required: tuple[str, ...] = ()


@dataclass(frozen=True)
class PipelineTemplate:
    name: object  # a lazy translation
    description: object
    stages: tuple[StageTemplate, ...]


def _closing(*, proposal: int = 50, negotiation: int = 75) -> tuple[StageTemplate, ...]:
    return (
        StageTemplate("proposal", OPEN, proposal, (AMOUNT, CLOSE)),
        StageTemplate("negotiation", OPEN, negotiation, (AMOUNT, CLOSE, DECISION_MAKER)),
        StageTemplate("won", WON, 100, (AMOUNT,)),
    )


LOST_STAGE = StageTemplate("lost", LOST, 0)

TEMPLATES = {
    "inbound": PipelineTemplate(
        _("Inbound sales"),
        _(
            "Leads come to you through content, search and forms; the first step is to qualify them."
        ),
        (
            StageTemplate("qualify", OPEN, 10),
            StageTemplate("needs_analysis", OPEN, 25, (CONTACTS,)),
            *_closing(),
            LOST_STAGE,
        ),
    ),
    "outbound": PipelineTemplate(
        _("Outbound sales"),
        _("Your people find and approach prospects themselves: prospect, make contact, qualify."),
        (
            StageTemplate("prospect", OPEN, 5),
            StageTemplate("make_contact", OPEN, 10, (CONTACTS,)),
            StageTemplate("qualify", OPEN, 20, (CONTACTS,)),
            StageTemplate("meeting", OPEN, 35, (CONTACTS,)),
            *_closing(proposal=55),
            LOST_STAGE,
        ),
    ),
    "relationship": PipelineTemplate(
        _("Relationship-based sales"),
        _("Nearly all revenue comes from existing customers; the process goes on after the sale."),
        (
            StageTemplate("qualify", OPEN, 20),
            *_closing(),
            StageTemplate("first_check_in", POST_SALE, 100),
            StageTemplate("upsell", POST_SALE, 100),
            LOST_STAGE,
        ),
    ),
    "team": PipelineTemplate(
        _("Team selling"),
        _("Several people work on each sale; after qualifying, the team researches together."),
        (
            StageTemplate("qualify", OPEN, 10),
            StageTemplate("research", OPEN, 20, (CONTACTS,)),
            StageTemplate("solution_design", OPEN, 40, (CONTACTS,)),
            *_closing(proposal=55),
            LOST_STAGE,
        ),
    ),
    "account_based": PipelineTemplate(
        _("Account-based sales"),
        _(
            "A few chosen target accounts, every stakeholder mapped, a strategy before the first call."
        ),
        (
            StageTemplate("identify_target_account", OPEN, 5),
            StageTemplate("build_stakeholder_list", OPEN, 10, (CONTACTS,)),
            StageTemplate("compile_initial_strategy", OPEN, 15, (CONTACTS,)),
            StageTemplate("contact_stakeholders", OPEN, 25, (CONTACTS,)),
            StageTemplate("pitch", OPEN, 45, (CONTACTS, DECISION_MAKER)),
            *_closing(proposal=60, negotiation=80),
            LOST_STAGE,
        ),
    ),
    "transactional": PipelineTemplate(
        _("Transactional sales"),
        _("Many small, quick sales with little contact: a quote and an order."),
        (
            StageTemplate("new", OPEN, 20),
            StageTemplate("quote_sent", OPEN, 50, (AMOUNT,)),
            StageTemplate("won", WON, 100, (AMOUNT,)),
            LOST_STAGE,
        ),
    ),
}
