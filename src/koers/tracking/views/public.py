"""The public side of tracking: the script, the ingest endpoint, lead forms, email links.

Called by strangers' browsers and mail clients, without a login: every input is checked,
sizes and rates are capped, and every id is a signed token (see ingest.py, tokens.py).
"""

import base64
import functools
import gzip
import logging
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from koers.core.clients import client_ip_address
from koers.core.limits import over_limit
from koers.crm.models import Contact
from koers.tracking import inbox, ingest, tasks, tokens
from koers.tracking.leadform import Submission
from koers.tracking.models import Event, LeadForm, Site
from koers.tracking.services.events import event_record
from koers.tracking.services.leads import lead_form_submit

logger = logging.getLogger(__name__)
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
FORM_MIN_SECONDS = 2  # people take longer than this to fill in a form; scripts do not
FORM_SUBMITS_PER_10_MINUTES = 10
EMAIL_EVENTS_PER_MINUTE = 60
MAX_FORM_BODY = 16 * 1024


@functools.cache
def _script(*, compressed: bool) -> bytes:
    code = (Path(__file__).parent.parent / "static" / "tracking" / "t.js").read_bytes()
    return gzip.compress(code, mtime=0) if compressed else code


@login_not_required
@require_GET
def script(request: HttpRequest) -> HttpResponse:
    """The tracking script, compressed for browsers that take it (about 4 KB)."""
    compressed = "gzip" in request.headers.get("Accept-Encoding", "")
    response = HttpResponse(
        _script(compressed=compressed), content_type="application/javascript; charset=utf-8"
    )
    if compressed:
        response["Content-Encoding"] = "gzip"
    response["Vary"] = "Accept-Encoding"
    response["Cache-Control"] = "public, max-age=3600"
    return response


def _refuse(status: int, reason: str) -> JsonResponse:
    return JsonResponse({"error": reason}, status=status)


def _body(request: HttpRequest, limit: int) -> bytes | None:
    """The request's body, or None when it is (or says it is) larger than `limit`."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    body = request.read(limit + 1)
    return None if declared > limit or len(body) > limit else body


@csrf_exempt
@login_not_required
@require_POST
def collect(request: HttpRequest) -> HttpResponse:
    """Accept a batch of events from the script: check, queue, answer at once."""
    body = _body(request, ingest.MAX_BODY)
    if body is None:
        return _refuse(413, "body larger than 8 KB")
    if ingest.is_bot(request.headers.get("User-Agent", "")):
        return HttpResponse(status=204)  # answered like any other, and forgotten
    try:
        data = ingest.parse_body(body)
        site = ingest.site_from_token(data.get("s"))
        ingest.check_origin(site, request.headers.get("Origin", ""))
        record = ingest.clean_batch(data, site)
    except ingest.Rejected as rejected:
        return _refuse(rejected.status, rejected.reason)
    address = client_ip_address(request) or ""
    verdict = inbox.accept(record, visitor=record.get("v") or address, address=address)
    if verdict is None:
        response = _refuse(429, "too many requests")
        response["Retry-After"] = "60"
        return response
    if verdict:
        tasks.schedule_drain()
    return HttpResponse(status=204)


def _with_cors(request: HttpRequest, response: HttpResponse, site: Site) -> HttpResponse:
    """Let pages on the site's own domains read the answer."""
    origin = request.headers.get("Origin", "")
    if origin and ingest.SiteInfo.of(site).allows_host(ingest.host_of(origin)):
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Allow-Methods"] = "GET, POST"
    response["Vary"] = "Origin"
    return response


def _form_errors(errors: dict[str, list[str]]) -> dict[str, str]:
    return {field or "__all__": " ".join(messages) for field, messages in errors.items()}


@csrf_exempt
@login_not_required
@require_http_methods(["GET", "POST", "OPTIONS"])
def lead_form(request: HttpRequest, key: str) -> HttpResponse:
    """GET: the form's fields for the script to draw; POST: a submission."""
    form = get_object_or_404(
        LeadForm.objects.select_related("site", "owner"), key=key, active=True, site__active=True
    )
    language = request.GET.get("lang")
    with translation.override(language if language in ("nl", "en") else None):
        if request.method == "OPTIONS":
            response = HttpResponse(status=204)
        elif request.method == "GET":
            response = JsonResponse(
                {
                    "title": form.name,
                    "fields": Submission(lead_form=form).describe(),
                    "submit": _("Send"),
                    "token": tokens.form_token(form.key),
                    "consent": _("We use your details only to answer your request."),
                }
            )
        else:
            response = _lead_form_post(request, form)
    return _with_cors(request, response, form.site)


def _lead_form_post(request: HttpRequest, form: LeadForm) -> JsonResponse:
    body = _body(request, MAX_FORM_BODY)
    if body is None:
        return _refuse(413, "body larger than 16 KB")
    try:
        data = ingest.parse_body(body, MAX_FORM_BODY)
    except ingest.Rejected as rejected:
        return _refuse(rejected.status, rejected.reason)
    if tokens.site_key(str(data.get("s", ""))) != form.site.key:
        return _refuse(403, "s: not this form's site")
    site = ingest.SiteInfo.of(form.site)
    try:
        ingest.check_origin(site, request.headers.get("Origin", ""))
    except ingest.Rejected as rejected:
        return _refuse(rejected.status, rejected.reason)
    address = client_ip_address(request) or ""
    if over_limit(f"form:{address}", FORM_SUBMITS_PER_10_MINUTES, window=600):
        return _refuse(429, "too many submissions")
    age = tokens.form_token_age(str(data.get("token", "")), form.key)
    if age is None:
        return JsonResponse(
            {"ok": False, "errors": {"__all__": _("This form has expired. Reload the page.")}},
            status=400,
        )
    thanks = form.thanks or _("Thank you! We will be in touch soon.")
    if data.get("website") or age < FORM_MIN_SECONDS:
        return JsonResponse({"ok": True, "thanks": thanks})  # a bot: thanked, not stored
    visitor, page_url, fields = data.get("v"), data.get("u", ""), data.get("fields")
    if visitor is not None and not (
        isinstance(visitor, str) and ingest.VISITOR_ID.fullmatch(visitor)
    ):
        return _refuse(400, "v: not a visitor id")
    try:
        page_url = ingest.url(page_url, "u", site) if page_url else ""
    except ingest.Rejected as rejected:
        return _refuse(rejected.status, rejected.reason)
    if not isinstance(fields, dict) or not all(
        isinstance(name, str) and isinstance(value, str) for name, value in fields.items()
    ):
        return _refuse(400, "fields: not an object of texts")
    submission = Submission(fields, lead_form=form)
    if not submission.is_valid():
        return JsonResponse({"ok": False, "errors": _form_errors(submission.errors)}, status=400)
    try:
        lead_form_submit(
            form=form, values=submission.cleaned_data, visitor_uid=visitor, page_url=page_url
        )
    except ValidationError as error:
        return JsonResponse({"ok": False, "errors": _form_errors(error.message_dict)}, status=400)
    except PermissionDenied:
        # The form's owner may no longer add contacts (made read-only): nothing is stored.
        logger.warning("lead form %s: its owner may not add contacts", form.pk)
        return JsonResponse(
            {"ok": False, "errors": {"__all__": _("This form cannot take submissions now.")}},
            status=400,
        )
    return JsonResponse({"ok": True, "thanks": thanks})


def _contact(contact_id: int) -> Contact | None:
    return Contact.objects.filter(pk=contact_id, deleted_at__isnull=True).first()


def _seen_lately(kind: str, contact: Contact, message: str, url: str = "") -> bool:
    """Mail clients and forwarded copies open and follow the same link again and again:
    one open, or one click of a link, per hour counts."""
    return Event.objects.filter(
        kind=kind,
        contact=contact,
        title=message[:300],
        url=url[:2000],
        occurred_at__gte=timezone.now() - timedelta(hours=1),
    ).exists()


def _may_record(request: HttpRequest) -> bool:
    address = client_ip_address(request) or ""
    return not ingest.is_bot(request.headers.get("User-Agent", "")) and not over_limit(
        f"email:{address}", EMAIL_EVENTS_PER_MINUTE
    )


@login_not_required
@require_GET
def email_open(request: HttpRequest, token: str) -> HttpResponse:
    data = tokens.email_open_data(token)
    if data is None:
        return HttpResponse(status=404)
    contact, message = _contact(data[0]), data[1]
    if (
        contact is not None
        and _may_record(request)
        and not _seen_lately(Event.Kind.EMAIL_OPEN, contact, message)
    ):
        event_record(kind=Event.Kind.EMAIL_OPEN, contact=contact, title=message)
    response = HttpResponse(PIXEL, content_type="image/gif")
    response["Cache-Control"] = "no-store"
    return response


def _own_site(host: str) -> bool:
    return any(
        ingest.SiteInfo.of(site).allows_host(host) for site in Site.objects.filter(active=True)
    )


@login_not_required
@require_GET
def email_click(request: HttpRequest, token: str) -> HttpResponse:
    data = tokens.email_click_data(token)
    invalid = HttpResponse(_("This link is not valid."), status=404, content_type="text/plain")
    if data is None:
        return invalid
    contact_id, message, url = data
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return invalid
    if parts.scheme not in ("http", "https") or not host:
        return invalid
    contact = _contact(contact_id)
    if contact is not None:
        if _may_record(request) and not _seen_lately(Event.Kind.EMAIL_CLICK, contact, message, url):
            event_record(kind=Event.Kind.EMAIL_CLICK, contact=contact, title=message, url=url)
        if _own_site(host):
            # The script on the team's site hands this back, so the visit is theirs.
            query = parse_qsl(parts.query, keep_blank_values=True)
            query.append(("koers_id", tokens.identify_token(contact_id)))
            url = urlunsplit(parts._replace(query=urlencode(query)))
    return HttpResponseRedirect(url)
