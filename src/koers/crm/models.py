from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from koers.crm import sbi

ALIVE = models.Q(deleted_at__isnull=True)


class LifecycleStage(models.TextChoices):
    SUSPECT = "suspect", _("Suspect")
    PROSPECT = "prospect", _("Prospect")
    LEAD = "lead", _("Lead")
    MQL = "mql", _("Marketing qualified lead (MQL)")
    SQL = "sql", _("Sales qualified lead (SQL)")
    OPPORTUNITY = "opportunity", _("Opportunity")
    CUSTOMER = "customer", _("Customer")
    FORMER_CUSTOMER = "former_customer", _("Former customer")


class TrashableModel(models.Model):
    """A record that is deleted softly: it goes to the trash and can be restored."""

    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("changed"), auto_now=True)
    deleted_at = models.DateTimeField(_("deleted"), null=True, blank=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        abstract = True

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


def fold_city(city: str) -> str:
    """The form of a city name that filters compare: case-folded, single spaces."""
    return " ".join(city.split()).casefold()


class Company(TrashableModel):
    class LegalForm(models.TextChoices):
        BV = "bv", _("Private limited company (BV)")
        NV = "nv", _("Public limited company (NV)")
        VOF = "vof", _("General partnership (VOF)")
        CV = "cv", _("Limited partnership (CV)")
        PARTNERSHIP = "maatschap", _("Professional partnership (maatschap)")
        SOLE_PROPRIETOR = "eenmanszaak", _("Sole proprietorship / freelancer (eenmanszaak, zzp)")
        FOUNDATION = "stichting", _("Foundation (stichting)")
        ASSOCIATION = "vereniging", _("Association (vereniging)")
        COOPERATIVE = "cooperatie", _("Cooperative (coöperatie)")
        PUBLIC_BODY = "overheid", _("Public body")
        FOREIGN = "buitenlands", _("Foreign legal form")

    class EmployeeBand(models.TextChoices):
        ONE = "1", "1"
        TWO_TO_NINE = "2-9", "2–9"
        TEN_TO_49 = "10-49", "10–49"
        FIFTY_TO_99 = "50-99", "50–99"
        HUNDRED_TO_249 = "100-249", "100–249"
        TWO_FIFTY_TO_499 = "250-499", "250–499"
        FIVE_HUNDRED_TO_999 = "500-999", "500–999"
        THOUSAND_PLUS = "1000+", _("1,000 or more")

    class RevenueBand(models.TextChoices):
        UNDER_1M = "<1m", _("under €1 million")
        FROM_1M = "1m-10m", _("€1–10 million")
        FROM_10M = "10m-50m", _("€10–50 million")
        FROM_50M = "50m-250m", _("€50–250 million")
        OVER_250M = ">250m", _("over €250 million")

    name = models.CharField(_("name"), max_length=200)
    # The name without case, accents or legal form, for matching (see normalise).
    name_key = models.CharField(max_length=200, blank=True, editable=False)
    external_id = models.CharField(
        _("external ID"),
        max_length=100,
        blank=True,
        help_text=_("The record's ID in another system, such as the CRM it was imported from."),
    )
    legal_form = models.CharField(
        _("legal form"), max_length=20, choices=LegalForm.choices, blank=True
    )
    domain = models.CharField(_("website domain"), max_length=253, blank=True)
    kvk_number = models.CharField(
        _("KvK number"),
        max_length=8,
        blank=True,
        help_text=_("Chamber of Commerce number: 8 digits."),
    )
    establishment_number = models.CharField(
        _("establishment number"),
        max_length=12,
        blank=True,
        help_text=_("KvK vestigingsnummer: 12 digits."),
    )
    vat_number = models.CharField(
        _("VAT number"),
        max_length=20,
        blank=True,
        help_text=_("Dutch btw number (NL…B01) or another EU VAT number."),
    )
    industry = models.CharField(_("industry (SBI)"), max_length=2, choices=sbi.SECTIONS, blank=True)
    employee_band = models.CharField(
        _("employees"), max_length=10, choices=EmployeeBand.choices, blank=True
    )
    revenue_band = models.CharField(
        _("annual revenue"), max_length=10, choices=RevenueBand.choices, blank=True
    )
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    street = models.CharField(_("street and number"), max_length=200, blank=True)
    postcode = models.CharField(_("postcode"), max_length=12, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    # The city case-folded in Python, for filtering: SQLite's lower() knows only ASCII.
    city_key = models.CharField(max_length=100, blank=True, editable=False)
    country = CountryField(_("country"), default="NL")
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent company"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="subsidiaries",
    )
    lifecycle_stage = models.CharField(
        _("lifecycle stage"),
        max_length=20,
        choices=LifecycleStage.choices,
        default=LifecycleStage.PROSPECT,
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_companies",
        db_index=False,  # company_owner_name leads with it
    )
    description = models.TextField(_("notes"), blank=True)
    customer_until = models.DateField(
        _("customer until"),
        null=True,
        blank=True,
        help_text=_("When the customer relationship ended, for former customers."),
    )
    technologies = models.JSONField(
        _("technologies"),
        default=list,
        blank=True,
        help_text=_("Software the company is known to use, such as Exact Online or Salesforce."),
    )
    # The team's own fields, name → text or number: imports fill them, the ICP and the
    # predictive model can weigh them.
    custom_fields = models.JSONField(_("custom fields"), default=dict, blank=True)

    class Meta:
        verbose_name = _("company")
        verbose_name_plural = _("companies")
        # Every filter and sort the list offers has an index over the live rows.
        indexes = [
            models.Index(fields=["name", "id"], name="company_name", condition=ALIVE),
            # Not partial: the contact list reaches companies by city without asking for
            # live ones.
            models.Index(fields=["city_key", "lifecycle_stage", "name"], name="company_city_stage"),
            models.Index(
                fields=["lifecycle_stage", "name"], name="company_stage_name", condition=ALIVE
            ),
            models.Index(
                fields=["industry", "name"], name="company_industry_name", condition=ALIVE
            ),
            models.Index(fields=["owner", "name"], name="company_owner_name"),
            models.Index(fields=["-updated_at"], name="company_updated", condition=ALIVE),
            models.Index(fields=["kvk_number"], name="company_kvk"),
            models.Index(fields=["vat_number"], name="company_vat"),
            models.Index(fields=["domain"], name="company_domain"),
            models.Index(fields=["name_key"], name="company_name_key"),
            models.Index(fields=["external_id"], name="company_external_id"),
            models.Index(fields=["deleted_at"], name="company_trash", condition=~ALIVE),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("crm:company-detail", args=[self.pk])


class Contact(TrashableModel):
    class DMURole(models.TextChoices):
        DECISION_MAKER = "decision_maker", _("Decision maker")
        ECONOMIC_BUYER = "economic_buyer", _("Economic buyer")
        CHAMPION = "champion", _("Champion")
        INFLUENCER = "influencer", _("Influencer")
        USER = "user", _("User")
        GATEKEEPER = "gatekeeper", _("Gatekeeper")
        BLOCKER = "blocker", _("Blocker")

    class Function(models.TextChoices):
        CEO = "ceo", _("CEO / managing director")
        CFO = "cfo", _("CFO / finance")
        CMO = "cmo", _("CMO / marketing")
        CIO = "cio", _("CIO / IT")
        PROCUREMENT = "procurement", _("Procurement")
        BOARD_ADVISER = "board_adviser", _("Board adviser")
        OTHER = "other", _("Other")

    class LeadSource(models.TextChoices):
        WEBSITE = "website", _("Website")
        WEB_FORM = "web_form", _("Web form")
        REFERRAL = "referral", _("Referral")
        EVENT = "event", _("Event or fair")
        OUTBOUND = "outbound", _("Outbound (calling, email)")
        PARTNER = "partner", _("Partner")
        ADVERTISING = "advertising", _("Advertising")
        SOCIAL = "social", _("Social media")
        IMPORT = "import", _("Import")
        OTHER = "other", _("Other")

    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    name_prefix = models.CharField(
        _("name prefix"), max_length=20, blank=True, help_text=_("For example: van, de, van der.")
    )
    last_name = models.CharField(_("last name"), max_length=100)
    external_id = models.CharField(
        _("external ID"),
        max_length=100,
        blank=True,
        help_text=_("The record's ID in another system, such as the CRM it was imported from."),
    )
    email = models.EmailField(_("email"), max_length=254, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    mobile = models.CharField(_("mobile"), max_length=20, blank=True)
    job_title = models.CharField(_("job title"), max_length=150, blank=True)
    function = models.CharField(_("function"), max_length=20, choices=Function.choices, blank=True)
    dmu_role = models.CharField(
        _("DMU role"),
        max_length=20,
        choices=DMURole.choices,
        blank=True,
        help_text=_("Role in the buying committee (decision-making unit)."),
    )
    linkedin_url = models.URLField(_("LinkedIn profile"), max_length=300, blank=True)
    company = models.ForeignKey(
        Company,
        verbose_name=_("company"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="contacts",
        db_index=False,  # contact_company_stage leads with it
    )
    lifecycle_stage = models.CharField(
        _("lifecycle stage"),
        max_length=20,
        choices=LifecycleStage.choices,
        default=LifecycleStage.LEAD,
    )
    lead_source = models.CharField(
        _("lead source"), max_length=20, choices=LeadSource.choices, blank=True
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_contacts",
        db_index=False,  # contact_owner_name leads with it
    )
    # Calling rules (Telecommunicatiewet): a person may object at any time; people without
    # a legal entity behind them need an opt-in or a recent customer relationship.
    do_not_call = models.BooleanField(_("do not call"), default=False)
    objected_at = models.DateTimeField(_("objected to calls"), null=True, blank=True)
    phone_opt_in_on = models.DateField(
        _("consent to calls given on"),
        null=True,
        blank=True,
        help_text=_("The date this person agreed to be called (opt-in)."),
    )
    customer_until = models.DateField(
        _("customer until"),
        null=True,
        blank=True,
        help_text=_("When the customer relationship ended, for former customers."),
    )
    call_back_on = models.DateField(_("call back on"), null=True, blank=True)
    custom_fields = models.JSONField(_("custom fields"), default=dict, blank=True)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        indexes = [
            models.Index(
                fields=["last_name", "first_name", "id"], name="contact_name", condition=ALIVE
            ),
            models.Index(
                fields=["lifecycle_stage", "last_name", "first_name"],
                name="contact_stage_name",
                condition=ALIVE,
            ),
            models.Index(fields=["owner", "last_name", "first_name"], name="contact_owner_name"),
            # A company's contacts; the contacts in one stage at the companies of a city.
            models.Index(fields=["company", "lifecycle_stage"], name="contact_company_stage"),
            models.Index(fields=["-updated_at"], name="contact_updated", condition=ALIVE),
            models.Index(fields=["email"], name="contact_email"),
            models.Index(fields=["external_id"], name="contact_external_id"),
            models.Index(fields=["deleted_at"], name="contact_trash", condition=~ALIVE),
        ]

    def __str__(self) -> str:
        return self.full_name

    def get_absolute_url(self) -> str:
        return reverse("crm:contact-detail", args=[self.pk])

    @property
    def full_name(self) -> str:
        return " ".join(
            part for part in (self.first_name, self.name_prefix, self.last_name) if part
        )


class Suppression(models.Model):
    """A person who must never be made contactable again, kept only as a hash.

    Written when someone objects or is erased; imports check every email address and phone
    number against it, so a recycled list cannot bring them back.
    """

    class Reason(models.TextChoices):
        OBJECTED = "objected", _("Objected to being contacted")
        ERASED = "erased", _("Asked to be forgotten")

    # SHA-256 of "email:<address>" or "phone:<E.164 number>", normalised first.
    key_hash = models.CharField(max_length=64, unique=True)
    reason = models.CharField(_("reason"), max_length=10, choices=Reason.choices)
    created_at = models.DateTimeField(_("since"), auto_now_add=True)

    class Meta:
        verbose_name = _("suppression")
        verbose_name_plural = _("suppression list")

    def __str__(self) -> str:
        return f"{self.get_reason_display()} ({self.key_hash[:12]}…)"
