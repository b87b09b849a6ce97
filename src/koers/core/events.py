"""Domain events: a service says what happened; apps higher up (webhooks) listen.

A lower app announces an event without knowing who listens, so the import layers hold.
Listeners run only after the write commits: a rolled-back write announces nothing.
"""

import functools
import json
from collections.abc import Callable, Iterable
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction

# listener(name, record, payload), such as ("contact.created", <Contact>, {"id": 7, …}).
Listener = Callable[[str, models.Model, dict[str, Any]], None]

_listeners: list[Listener] = []


def subscribe(listener: Listener) -> None:
    """Call `listener` after every event that commits; subscribing twice is harmless."""
    if listener not in _listeners:
        _listeners.append(listener)


def emit(name: str, *, record: models.Model, payload: dict[str, Any]) -> None:
    """Announce an event about `record`, to run the listeners once the write commits."""
    for listener in _listeners:
        # robust: a failing listener is logged and never undoes or breaks the write.
        transaction.on_commit(functools.partial(listener, name, record, payload), robust=True)


class _Encoder(DjangoJSONEncoder):
    def default(self, o: Any) -> Any:
        try:
            return super().default(o)
        except TypeError:
            return str(o)  # such as a country


def record_payload(record: models.Model, fields: Iterable[str], **extra: Any) -> dict[str, Any]:
    """The record as an event tells it: id, type and the fields, a related record as its id
    (`company_id`), in plain JSON values (dates as ISO text, amounts as decimal text)."""
    values: dict[str, Any] = {"id": record.pk, "type": record._meta.model_name}
    for name in fields:
        field = record._meta.get_field(name)
        if field.is_relation:
            values[field.attname] = getattr(record, field.attname)
        else:
            values[name] = getattr(record, name)
    values.update(extra)
    return json.loads(json.dumps(values, cls=_Encoder))
