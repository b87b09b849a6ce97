from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from koers.core.listing import list_page
from koers.core.selectors import audit_trail_for, saved_view_list_for_user
from koers.core.services import check_can_edit_records
from koers.crm import list_extras, panels, selectors, services
from koers.crm.forms import CompanyFilterForm, CompanyForm, ContactFilterForm, ContactForm

COMPANY_LIST = "crm.companies"
CONTACT_LIST = "crm.contacts"


def _record_list(request, *, form, rows, list_name: str, template: str, partial: str, extra=None):
    context = {
        "form": form,
        "list_name": list_name,
        "is_filtered": bool(set(form.filters()) - {"sort"}),
        "saved_views": saved_view_list_for_user(user=request.user, list_name=list_name),
        **(extra or {}),
    }
    return list_page(request, rows, template=template, partial=partial, context=context)


def start_section_context(user) -> dict:
    """The start page's part about companies and contacts, with a chart that links to lists."""
    summary = selectors.start_summary_for_user(user=user)
    shown = [row for row in summary["contacts_by_stage"] if row[2]]
    list_url = reverse("crm:contact-list")
    summary["chart"] = {
        "labels": [str(label) for _stage, label, _count in shown],
        "values": [count for _stage, _label, count in shown],
        "links": [
            f"{list_url}?owner=me&lifecycle_stage={stage}" for stage, _label, _count in shown
        ],
    }
    return summary


def company_list(request: HttpRequest) -> HttpResponse:
    form = CompanyFilterForm(request.GET)
    companies = selectors.company_list_for_user(user=request.user, **form.filters())
    return _record_list(
        request,
        form=form,
        rows=companies,
        list_name=COMPANY_LIST,
        template="crm/company_list.html",
        partial="crm/partials/company_table.html",
    )


def company_detail(request: HttpRequest, pk: int) -> HttpResponse:
    company = selectors.company_get_for_user(user=request.user, pk=pk)
    contacts = selectors.company_contacts_for_user(user=request.user, company=company)
    return render(
        request,
        "crm/company_detail.html",
        {
            "company": company,
            "contacts": contacts[:50],
            "contact_count": contacts.count(),
            "subsidiaries": selectors.company_subsidiaries_for_user(
                user=request.user, company=company
            ),
            "parent_is_visible": selectors.company_is_visible(
                user=request.user, pk=company.parent_id
            ),
            "history": audit_trail_for(instance=company),
            "panels": panels.panels_for("company", user=request.user, record=company),
        },
    )


def _record_form(request, *, form_class, instance, save, template: str, context: dict):
    """Show a record form; on a valid post, call `save` (a service) and go to the record."""
    check_can_edit_records(request.user)
    form = form_class(
        request.POST or None,
        instance=instance,
        user=request.user,
        initial=context.pop("initial", None),
    )
    if request.method == "POST" and form.is_valid():
        try:
            record = save(form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("%(record)s has been saved.") % {"record": record})
            return redirect(record.get_absolute_url())
    return render(request, template, {"form": form, **context})


def company_create(request: HttpRequest) -> HttpResponse:
    return _record_form(
        request,
        form_class=CompanyForm,
        instance=None,
        save=lambda data: services.company_create(actor=request.user, **data),
        template="crm/company_form.html",
        context={"initial": {"owner": request.user, "country": "NL"}},
    )


def company_edit(request: HttpRequest, pk: int) -> HttpResponse:
    company = selectors.company_get_for_user(user=request.user, pk=pk)
    return _record_form(
        request,
        form_class=CompanyForm,
        instance=company,
        save=lambda data: services.company_update(actor=request.user, company=company, **data),
        template="crm/company_form.html",
        context={"company": company},
    )


def _move_to_trash(request, record, list_url_name: str, restore_url_name: str) -> HttpResponse:
    services.record_delete(actor=request.user, record=record)
    messages.success(
        request,
        _("%(record)s has been moved to the trash.") % {"record": record},
        extra_tags="undo:" + reverse(restore_url_name, args=[record.pk]),  # one-click undo
    )
    return redirect(list_url_name)


def _restore(request, record) -> HttpResponse:
    services.record_restore(actor=request.user, record=record)
    messages.success(request, _("%(record)s has been restored.") % {"record": record})
    return redirect(record.get_absolute_url())


@require_POST
def company_delete(request: HttpRequest, pk: int) -> HttpResponse:
    company = selectors.company_get_for_user(user=request.user, pk=pk)
    return _move_to_trash(request, company, "crm:company-list", "crm:company-restore")


@require_POST
def company_restore(request: HttpRequest, pk: int) -> HttpResponse:
    return _restore(request, selectors.company_get_for_user(user=request.user, pk=pk, trash=True))


def company_pick(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "")[:200]
    return render(
        request,
        "crm/partials/company_pick.html",
        {"companies": selectors.company_pick_for_user(user=request.user, q=query), "query": query},
    )


def contact_list(request: HttpRequest) -> HttpResponse:
    form = ContactFilterForm(request.GET)
    filters = form.filters()
    extra = list_extras.chosen("contact", request.GET)
    contacts = selectors.contact_list_for_user(user=request.user, **filters, extra=extra)
    company = None
    if "company_id" in filters:
        company = (
            selectors.company_visible_to(user=request.user).filter(pk=filters["company_id"]).first()
        )
    return _record_list(
        request,
        form=form,
        rows=contacts,
        list_name=CONTACT_LIST,
        template="crm/contact_list.html",
        partial="crm/partials/contact_table.html",
        extra={
            "company": company,
            "is_filtered": bool((set(filters) | set(extra)) - {"sort"}),
            **list_extras.page_context("contact", extra),
        },
    )


def contact_detail(request: HttpRequest, pk: int) -> HttpResponse:
    contact = selectors.contact_get_for_user(user=request.user, pk=pk)
    return render(
        request,
        "crm/contact_detail.html",
        {
            "contact": contact,
            "company_is_visible": selectors.company_is_visible(
                user=request.user, pk=contact.company_id
            ),
            "history": audit_trail_for(instance=contact),
            "panels": panels.panels_for("contact", user=request.user, record=contact),
        },
    )


def contact_create(request: HttpRequest) -> HttpResponse:
    initial = {"owner": request.user}
    company_id = request.GET.get("company", "")
    if company_id.isdigit():
        company = selectors.company_visible_to(user=request.user).filter(pk=company_id).first()
        if company is not None:
            initial["company"] = company.pk
            initial["lifecycle_stage"] = company.lifecycle_stage
    return _record_form(
        request,
        form_class=ContactForm,
        instance=None,
        save=lambda data: services.contact_create(actor=request.user, **data),
        template="crm/contact_form.html",
        context={"initial": initial},
    )


def contact_edit(request: HttpRequest, pk: int) -> HttpResponse:
    contact = selectors.contact_get_for_user(user=request.user, pk=pk)
    return _record_form(
        request,
        form_class=ContactForm,
        instance=contact,
        save=lambda data: services.contact_update(actor=request.user, contact=contact, **data),
        template="crm/contact_form.html",
        context={"contact": contact},
    )


@require_POST
def contact_delete(request: HttpRequest, pk: int) -> HttpResponse:
    contact = selectors.contact_get_for_user(user=request.user, pk=pk)
    return _move_to_trash(request, contact, "crm:contact-list", "crm:contact-restore")


@require_POST
def contact_restore(request: HttpRequest, pk: int) -> HttpResponse:
    return _restore(request, selectors.contact_get_for_user(user=request.user, pk=pk, trash=True))


def trash(request: HttpRequest) -> HttpResponse:
    kind = "contacts" if request.GET.get("kind") == "contacts" else "companies"
    return list_page(
        request,
        selectors.trash_for_user(user=request.user, kind=kind),
        template="crm/trash.html",
        partial="crm/partials/trash_table.html",
        context={"kind": kind, "trash_days": settings.KOERS_TRASH_DAYS},
    )


def search(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:200]
    companies = contacts = []
    if query:
        companies = selectors.company_list_for_user(user=request.user, q=query)[:10]
        contacts = selectors.contact_list_for_user(user=request.user, q=query)[:10]
    return render(
        request,
        "crm/search.html",
        {"search_query": query, "companies": companies, "contacts": contacts},
    )
