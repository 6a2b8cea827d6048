"""Mindbox: the CRM events as calls of its v3 operations API (../shared/crm/MINDBOX.md, docs/crm.md).

`POST {base}/v3/operations/async?endpointId=…&operation=…&transactionId=…` with `Authorization: SecretKey …`.
The operation names, the endpoint and the customer's id names are the program's (every Mindbox project names
its own). The transactionId is derived from the event's id, so a retried event is answered
`TransactionAlreadyProcessed` instead of being applied twice.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import urllib3

from loyalty.contracts import (
    CrmEvent,
    Deleted,
    LevelChanged,
    MemberRegistered,
    MemberUpdated,
    PointsChanged,
    ReceiptRecorded,
    Unsubscribed,
)
from loyalty.domain.errors import CrmCustomerUnknown, CrmRejected, CrmUnavailable

if TYPE_CHECKING:
    from loyalty.domain.program import Mindbox as MindboxConfig

# Every transactionId is a GUID derived from the event id in this namespace: the same event, the same GUID.
_TRANSACTIONS = uuid.UUID("6f1d2b1e-8c39-4f5e-9a57-2f4f5f0c9b41")
_ANSWERED = ("Success", "TransactionAlreadyProcessed")


@dataclass(frozen=True)
class Call:
    operation: str
    transaction_id: str
    body: dict[str, Any]


def transaction_id(event_id: str) -> str:
    return str(uuid.uuid5(_TRANSACTIONS, event_id))


def call_for(config: MindboxConfig, event: CrmEvent) -> Call | None:
    """The operation one event is sent as, or None when it changes nothing Mindbox keeps (a hold's commit moves
    no points between balances Mindbox sees)."""
    operations = config.operations
    customer: dict[str, Any] = {"ids": {config.telegram_id: event.member_id}}
    subscription = {"pointOfContact": config.point_of_contact}
    body: dict[str, Any]
    if isinstance(event, MemberRegistered):
        customer |= {"mobilePhone": _digits(event.phone), "customFields": {config.source_field: event.source},
                     "subscriptions": [subscription | {"isSubscribed": event.consent}]}
        if event.name:
            customer["firstName"] = event.name
        operation, body = operations.member_registered, {"customer": customer}
    elif isinstance(event, MemberUpdated):
        if event.phone:
            customer["mobilePhone"] = _digits(event.phone)
        if event.subscribed is not None:
            customer["subscriptions"] = [subscription | {"isSubscribed": event.subscribed}]
        operation, body = operations.member_updated, {"customer": customer}
    elif isinstance(event, ReceiptRecorded):
        operation, body = operations.receipt_accepted, {"customer": customer, **_order(event)}
    elif isinstance(event, PointsChanged):
        if event.points == 0:
            return None
        change: dict[str, Any] = {"balanceType": {"ids": {"systemName": config.balance_type}},
                                  "changeAmount": event.points, "comment": f"{event.kind} {event.label}".strip()}
        if event.expires_at is not None and event.points > 0:
            change["expirationDateTimeUtc"] = _utc(event.expires_at)
        operation, body = operations.points_changed, {"customer": customer, "balanceChanges": [change]}
    elif isinstance(event, LevelChanged):
        customer["customFields"] = {config.level_field: event.level}
        operation, body = operations.level_changed, {"customer": customer}
    elif isinstance(event, Unsubscribed):
        customer["subscriptions"] = [subscription | {"isSubscribed": False}]
        operation, body = operations.unsubscribed, {"customer": customer}
    else:
        assert isinstance(event, Deleted)
        operation, body = operations.deleted, {"customer": customer}
    return Call(operation=operation, transaction_id=transaction_id(event.event_id), body=body)


def _order(event: ReceiptRecorded) -> dict[str, Any]:
    lines = event.lines or ()
    total = _roubles(event.brand_sum_kopecks)
    return {
        "executionDateTimeUtc": _utc(event.purchased_at),
        "order": {
            "ids": {"externalSystemId": event.fiscal_key},
            "customFields": {"channel": event.channel, "store": event.store},
            "lines": [{
                "lineNumber": number,
                "product": {"ids": {"externalId": line.gtin or line.name}, "name": line.name},
                "quantity": str(line.quantity),
                "basePricePerItem": float(_roubles(line.sum_kopecks) / max(Decimal(line.quantity), Decimal(1))),
                "status": {"ids": {"externalId": "Paid"}},
            } for number, line in enumerate(lines, start=1)],
            "totalPrice": float(total),
            "payments": [{"type": "Receipt", "amount": float(total)}],
        },
    }


def _digits(phone: str) -> str:
    return "".join(ch for ch in phone if ch.isdigit())


def _roubles(kopecks: int) -> Decimal:
    return Decimal(kopecks) / 100


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


class MindboxClient:
    """Delivers events to one Mindbox endpoint. `pace` is called before each request (the program's limit)."""

    def __init__(self, base_url: str, secret: Callable[[], str], config: MindboxConfig,
                 pace: Callable[[], object] = lambda: None):
        self.url = base_url.rstrip("/") + "/v3/operations/async"
        self.secret = secret
        self.config = config
        self.pace = pace
        self.http = urllib3.PoolManager(timeout=urllib3.Timeout(connect=3.0, read=config.timeout_seconds),
                                        retries=False)

    def deliver(self, event: CrmEvent) -> None:
        call = call_for(self.config, event)
        if call is None:
            return
        self.pace()
        try:
            query = urlencode({"endpointId": self.config.endpoint_id, "operation": call.operation,
                               "transactionId": call.transaction_id})
            response = self.http.request(
                "POST", f"{self.url}?{query}",
                body=json.dumps(call.body, ensure_ascii=False).encode(),
                headers={"Authorization": f"SecretKey {self.secret()}", "Content-Type": "application/json",
                         "Accept": "application/json"},
            )
        except urllib3.exceptions.HTTPError as error:
            raise CrmUnavailable(f"Mindbox unreachable: {type(error).__name__}") from error
        _raise_for(response.status, response.data, response.headers.get("Retry-After"), call.operation)


def _raise_for(status: int, data: bytes, retry_after: str | None, operation: str) -> None:
    """Mindbox's answer, as MINDBOX.md's table reads it."""
    text = data.decode(errors="replace")[:2000]
    if status == 429:
        raise CrmUnavailable(f"Mindbox {operation}: over the rate limit (429)",
                             int(retry_after) if retry_after and retry_after.isdigit() else None)
    if status >= 500:
        raise CrmUnavailable(f"Mindbox {operation}: HTTP {status}")
    if status >= 400:
        raise CrmRejected(f"Mindbox {operation}: ProtocolError (HTTP {status})", text)
    try:
        answer = json.loads(data)
        outcome = answer.get("status")
    except (ValueError, AttributeError) as error:
        raise CrmUnavailable(f"Mindbox {operation}: HTTP {status} with a body that is not JSON") from error
    if outcome in _ANSWERED:
        return
    if outcome == "ValidationError":
        messages = "; ".join(f"{m.get('location', '')}: {m.get('message', '')}"
                             for m in answer.get("validationMessages") or [] if isinstance(m, dict))
        detail = f"Mindbox {operation}: ValidationError ({messages or 'no detail'})"
        if "customer not found" in messages.lower():
            raise CrmCustomerUnknown(detail, text)
        raise CrmRejected(detail, text)
    if outcome == "ProtocolError":
        raise CrmRejected(f"Mindbox {operation}: ProtocolError ({answer.get('errorMessage', '')})", text)
    raise CrmUnavailable(f"Mindbox {operation}: status {outcome!r}")
