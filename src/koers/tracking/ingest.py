"""What the tracking script may send, checked field by field before anything is queued.

The ingest endpoint is public and hot: everything here is plain Python on a few KB of
JSON, and the site's settings come from a short-lived copy in this process, so an
accepted request costs no database query.
"""

import json
import re
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from koers.tracking import tokens
from koers.tracking.models import Site

MAX_BODY = 8 * 1024
MAX_EVENTS = 20
SITE_CACHE_SECONDS = 30

VISITOR_ID = re.compile(r"[A-Za-z0-9_-]{16,32}")
PAGE_ID = re.compile(r"[A-Za-z0-9_-]{8,22}")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Crawlers, link previews, monitors and scripted browsers say who they are.
BOTS = re.compile(
    r"bot|crawl|spider|slurp|preview|facebookexternalhit|headless|phantom|lighthouse|"
    r"curl|wget|python-|java/|go-http|httpclient|okhttp|monitor|pingdom|uptime",
    re.IGNORECASE,
)

FIELDS = {
    "page_view": {"k", "u", "t", "r", "p"},
    "engage": {"k", "p", "d"},
    "form_submit": {"k", "u", "f"},
    "download": {"k", "u", "h"},
}


class Rejected(Exception):
    """A request to refuse: `status` is the HTTP status, `reason` says why (in English,
    for the developer looking at the network tab)."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status, self.reason = status, reason


@dataclass(frozen=True)
class SiteInfo:
    id: int
    domains: tuple[str, ...]
    anonymous_allowed: bool

    @classmethod
    def of(cls, site: Site) -> "SiteInfo":
        return cls(site.pk, tuple(site.domains), site.consent_mode == Site.ConsentMode.ANONYMOUS)

    def allows_host(self, host: str) -> bool:
        host = host.lower().rstrip(".")
        return any(host == domain or host.endswith("." + domain) for domain in self.domains)


_sites: dict[str, tuple[float, SiteInfo | None]] = {}
# Site tokens whose signature was checked: a token never changes meaning, so each process
# checks a site's once, not on every request.
_verified: dict[str, str] = {}


def site_info(key: str) -> SiteInfo | None:
    """The active site with this key; a change to a site applies within half a minute."""
    now = time.monotonic()
    cached = _sites.get(key)
    if cached and cached[0] > now:
        return cached[1]
    site = Site.objects.filter(key=key, active=True).first()
    info = SiteInfo.of(site) if site else None
    if len(_sites) > 10_000:  # forged keys must not grow this without bound
        _sites.clear()
    _sites[key] = (now + SITE_CACHE_SECONDS, info)
    return info


def host_of(url: str) -> str:
    """The lower-case host of a URL, or "" when it has none or is not a URL."""
    try:
        return (urlsplit(url).hostname or "").rstrip(".")
    except ValueError:
        return ""


def clean_text(value: str) -> str | None:
    """The text without control characters (PostgreSQL stores no NUL), or None when it
    holds lone surrogates, which no database can store as text."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return None
    return CONTROL.sub("", value)


def is_bot(user_agent: str) -> bool:
    return not user_agent or bool(BOTS.search(user_agent))


def parse_body(body: bytes, limit: int = MAX_BODY) -> dict:
    if len(body) > limit:
        raise Rejected(413, f"body larger than {limit // 1024} KB")
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise Rejected(400, "body is not JSON") from None
    if not isinstance(data, dict):
        raise Rejected(400, "body is not a JSON object")
    return data


def site_from_token(token: object) -> SiteInfo:
    if not isinstance(token, str) or len(token) > 100:
        raise Rejected(400, "s: missing site token")
    key = _verified.get(token)
    if key is None:
        key = tokens.site_key(token)
        if key is not None:  # only checked tokens are kept, so forged ones cannot fill it
            if len(_verified) > 1000:
                _verified.clear()
            _verified[token] = key
    site = site_info(key) if key else None
    if site is None:
        raise Rejected(403, "s: unknown or inactive site")
    return site


def check_origin(site: SiteInfo, origin: str) -> None:
    """Browsers name the page's origin on every POST; a foreign one is refused."""
    if origin and origin != "null" and not site.allows_host(host_of(origin)):
        raise Rejected(403, "origin is not one of the site's domains")


def _text(event: dict, key: str, limit: int) -> str:
    value = event.get(key, "")
    if not isinstance(value, str):
        raise Rejected(400, f"e.{key}: not text")
    if len(value) > limit:
        raise Rejected(400, f"e.{key}: longer than {limit}")
    cleaned = clean_text(value)
    if cleaned is None:
        raise Rejected(400, f"e.{key}: not valid text")
    return cleaned


def url(value: str, key: str, site: SiteInfo | None) -> str:
    """An http(s) URL; with `site`, one on the site's own domains."""
    return _url({key: value}, key, site)


def _url(event: dict, key: str, site: SiteInfo | None) -> str:
    value = _text(event, key, 2000)
    if not value:
        if site is not None:
            raise Rejected(400, f"e.{key}: missing")
        return ""
    try:
        parts = urlsplit(value)
        host = parts.hostname or ""
    except ValueError:
        raise Rejected(400, f"e.{key}: not a URL") from None
    if parts.scheme not in ("http", "https") or not host:
        raise Rejected(400, f"e.{key}: not an http(s) URL")
    if site is not None and not site.allows_host(host):
        raise Rejected(403, f"e.{key}: not on the site's domains")
    return value


def _page_id(event: dict) -> str:
    value = event.get("p")
    if not isinstance(value, str) or not PAGE_ID.fullmatch(value):
        raise Rejected(400, "e.p: not a page id")
    return value


def clean_event(event: object, site: SiteInfo) -> dict:
    if not isinstance(event, dict):
        raise Rejected(400, "e: an event is not an object")
    kind = event.get("k")
    if not isinstance(kind, str) or kind not in FIELDS:
        raise Rejected(400, "e.k: unknown event kind")
    if set(event) - FIELDS[kind]:
        raise Rejected(400, f"e: unknown field for {kind}")
    clean: dict = {"k": kind}
    if kind == "engage":
        seconds = event.get("d")
        if type(seconds) is not int or not 0 <= seconds <= 86_400:
            raise Rejected(400, "e.d: not a number of seconds")
        clean.update(p=_page_id(event), d=seconds)
        return clean
    clean["u"] = _url(event, "u", site)
    if kind == "page_view":
        clean.update(t=_text(event, "t", 300), r=_url(event, "r", None), p=_page_id(event))
    elif kind == "form_submit":
        clean["f"] = _text(event, "f", 100)
    else:
        clean["h"] = _url(event, "h", None)
        if not clean["h"]:
            raise Rejected(400, "e.h: missing")
    return clean


def clean_batch(data: dict, site: SiteInfo) -> dict:
    """The queued record of one request: site, visitor, identification and events."""
    if set(data) - {"s", "v", "i", "e"}:
        raise Rejected(400, "unknown field")
    visitor = data.get("v")
    if visitor is not None and (not isinstance(visitor, str) or not VISITOR_ID.fullmatch(visitor)):
        raise Rejected(400, "v: not a visitor id")
    contact_id = None
    if data.get("i") is not None:
        token = data["i"]
        contact_id = tokens.identify_contact_id(token) if isinstance(token, str) else None
        if contact_id is None or visitor is None:
            raise Rejected(403, "i: not a valid identification")
    events = data.get("e")
    if not isinstance(events, list) or not 1 <= len(events) <= MAX_EVENTS:
        raise Rejected(400, f"e: between 1 and {MAX_EVENTS} events")
    cleaned = [clean_event(event, site) for event in events]
    if visitor is None:
        # Before consent a site may count page views, but never anything about a person.
        if not site.anonymous_allowed:
            raise Rejected(403, "v: this site records nothing before consent")
        if any(event["k"] != "page_view" for event in cleaned):
            raise Rejected(400, "e: only page views are recorded before consent")
    record = {"s": site.id, "t": time.time(), "e": cleaned}
    if visitor:
        record["v"] = visitor
    if contact_id:
        record["c"] = contact_id
    return record
