"""A signed webhook: the CRM events as JSON POSTs to a brand's own URL, for a CRM without a Mindbox adapter.

Each event is one POST of the event's JSON, with:
- `Idempotency-Key`: the event's id, the same on every retry (the receiver applies each key once);
- `X-Loyalty-Signature: t=<unix seconds>,v1=<hex>`: HMAC-SHA256 with the shared secret over
  `<t>.<raw body>`. The receiver recomputes it, compares in constant time, refuses a `t` older than its
  tolerance (5 minutes) and remembers the signatures it accepted within it: a captured request sent again is
  refused, while our own retry (a new `t`, a new signature, the same key) is answered 2xx without being
  applied twice. docs/crm.md has a receiver in a dozen lines.

2xx (and 409, the receiver's "I have this very delivery") is delivered; 408, 425, 429, 5xx and timeouts are
retried; any other answer is a rejection (dead-letter).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import urllib3

from loyalty.domain.errors import CrmRejected, CrmUnavailable

if TYPE_CHECKING:
    from loyalty.contracts import CrmEvent
    from loyalty.domain.program import CrmWebhook

SIGNATURE_HEADER = "X-Loyalty-Signature"
_RETRIED = {408, 425, 429}


def signature(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


class SignedWebhook:
    def __init__(self, url: str, secret: Callable[[], str], config: CrmWebhook,
                 pace: Callable[[], object] = lambda: None, clock: Callable[[], float] = time.time):
        self.url = url
        self.secret = secret
        self.pace = pace
        self.clock = clock
        self.http = urllib3.PoolManager(timeout=urllib3.Timeout(connect=3.0, read=config.timeout_seconds),
                                        retries=False)

    def deliver(self, event: CrmEvent) -> None:
        body = event.model_dump_json().encode()
        self.pace()
        headers = {"Content-Type": "application/json", "Idempotency-Key": event.event_id,
                   SIGNATURE_HEADER: signature(self.secret(), int(self.clock()), body)}
        try:
            response = self.http.request("POST", self.url, body=body, headers=headers)
        except urllib3.exceptions.HTTPError as error:
            raise CrmUnavailable(f"webhook unreachable: {type(error).__name__}") from error
        if 200 <= response.status < 300 or response.status == 409:  # 409: it has this very delivery already
            return
        retry_after = response.headers.get("Retry-After")
        if response.status in _RETRIED or response.status >= 500:
            raise CrmUnavailable(f"webhook answered HTTP {response.status}",
                                 int(retry_after) if retry_after and retry_after.isdigit() else None)
        raise CrmRejected(f"webhook refused the event (HTTP {response.status})",
                          response.data.decode(errors="replace")[:2000])
