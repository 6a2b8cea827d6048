"""A brand's webhook endpoint, as docs/crm.md tells a brand to write one: it verifies every delivery itself.

- `X-Loyalty-Signature: t=<unix seconds>,v1=<hex>` must be HMAC-SHA256 with the shared secret over
  `<t>.<raw body>`, compared in constant time (401 otherwise);
- `t` must be within the tolerance of its own clock (401: stale), so a captured request cannot be sent later;
- a signature already accepted within the tolerance is a replay (409), so it cannot be sent again sooner;
- each event (its `event_id`, inside the signed body, which `Idempotency-Key` repeats) is applied once: the
  sender's retry, signed afresh, is answered 200 and not applied twice.

Written apart from the sender's code on purpose: it checks the sender against the documented contract, not
against itself.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections import Counter
from typing import Any

from loyalty_tools.local.http import JsonHandler, Server

TOLERANCE_SECONDS = 300


class WebhookReceiver(Server):
    def __init__(self, secret: str, host: str = "127.0.0.1", port: int = 0):
        self.secret = secret.encode()
        self.lock = threading.Lock()
        self.events: dict[str, dict[str, Any]] = {}  # by event id, in the order first applied
        self.signatures: dict[str, float] = {}  # accepted within the tolerance
        self.counts: Counter[str] = Counter()
        self.refuse_with: int | None = None  # answer this status to everything (a receiver that is down)
        self.deliveries: list[tuple[dict[str, str], bytes]] = []  # every request as received (headers, body)
        super().__init__(type("Handler", (_Handler,), {"receiver": self}), "crm-webhook", host, port)

    def reset(self) -> None:
        with self.lock:
            self.events.clear()
            self.signatures.clear()
            self.counts.clear()
            self.refuse_with = None
            self.deliveries.clear()

    def receive(self, signature_header: str, idempotency_key: str, body: bytes) -> tuple[int, dict[str, Any]]:
        with self.lock:
            if self.refuse_with is not None:
                self.counts["refused"] += 1
                return self.refuse_with, {"error": "unavailable"}
            verdict = self._verify(signature_header, body)
            if verdict is not None:
                self.counts[verdict[1]["error"]] += 1
                return verdict
            event = json.loads(body)
            if event.get("event_id") != idempotency_key:
                self.counts["key_mismatch"] += 1
                return 400, {"error": "Idempotency-Key is not the signed event's id"}
            if event["event_id"] in self.events:
                self.counts["duplicate"] += 1
                return 200, {"status": "duplicate"}
            self.events[event["event_id"]] = event
            self.counts["accepted"] += 1
            return 200, {"status": "accepted"}

    def _verify(self, header: str, body: bytes) -> tuple[int, dict[str, Any]] | None:
        fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
        try:
            timestamp = int(fields.get("t", ""))
        except ValueError:
            return 401, {"error": "bad_signature"}
        expected = hmac.new(self.secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, fields.get("v1", "")):
            return 401, {"error": "bad_signature"}
        now = time.time()
        if abs(now - timestamp) > TOLERANCE_SECONDS:
            return 401, {"error": "stale"}
        self.signatures = {s: at for s, at in self.signatures.items() if at > now - TOLERANCE_SECONDS}
        if expected in self.signatures:
            return 409, {"error": "replayed"}
        self.signatures[expected] = now
        return None


class _Handler(JsonHandler):
    receiver: WebhookReceiver

    def do_POST(self) -> None:
        body = self.read_body()
        with self.receiver.lock:
            self.receiver.deliveries.append((dict(self.headers.items()), body))
        status, answer = self.receiver.receive(self.headers.get("X-Loyalty-Signature", ""),
                                               self.headers.get("Idempotency-Key", ""), body)
        self.reply_json(status, answer)

    def do_GET(self) -> None:
        with self.receiver.lock:
            self.reply_json(200, {"events": list(self.receiver.events.values()),
                                  "counts": dict(self.receiver.counts)})
