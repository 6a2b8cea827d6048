"""Receipt services: who turns a QR code into the full fiscal receipt.

`ReceiptService` (flows/ports.py) is the interface; `Proverkacheka` speaks proverkacheka.com's API
(`POST /api/v1/check/get`, errors in an HTTP 200 body with a `code`). A second service (the FNS app API)
plugs in by implementing `fetch`.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import urllib3

from loyalty.domain.errors import ReceiptNotFound, ReceiptServiceUnavailable

if TYPE_CHECKING:
    from loyalty.domain.qr import ReceiptQuery

# proverkacheka answer codes
CODE_INCORRECT = 0
CODE_OK = 1
CODE_NOT_YET = 2
CODE_RATE_LIMITED = 3
CODE_WAIT = 4
CODE_OTHER = 5
_RATE_LIMIT_BACKOFF_SECONDS = 15 * 60


class Proverkacheka:
    """`by_fields=True` sends fn, fd, fp, t, n, s separately (with qr=0) instead of the QR text in `qrraw`."""

    def __init__(self, base_url: str, token: str, timeout_seconds: float = 10.0, by_fields: bool = False):
        self.url = base_url.rstrip("/") + "/api/v1/check/get"
        self.token = token
        self.by_fields = by_fields
        self.http = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=3.0, read=timeout_seconds), retries=False
        )

    def fetch(self, query: ReceiptQuery) -> Any:
        try:
            response = self.http.request("POST", self.url, fields=self._form(query), encode_multipart=False)
        except urllib3.exceptions.HTTPError as error:
            raise ReceiptServiceUnavailable(f"receipt service unreachable: {type(error).__name__}") from error
        if response.status >= 300:
            raise ReceiptServiceUnavailable(f"receipt service HTTP {response.status}")
        try:
            body = json.loads(response.data)
            code = int(body["code"])
        except (ValueError, KeyError, TypeError) as error:
            raise ReceiptServiceUnavailable("receipt service answered something that is not JSON") from error
        if code == CODE_OK:
            return body
        if code == CODE_INCORRECT:
            raise ReceiptNotFound(f"receipt service: receipt incorrect ({_detail(body)})")
        if code == CODE_RATE_LIMITED:
            raise ReceiptServiceUnavailable("receipt service: request limit exceeded", _RATE_LIMIT_BACKOFF_SECONDS)
        raise ReceiptServiceUnavailable(f"receipt service code {code} ({_detail(body)})")


    def _form(self, query: ReceiptQuery) -> dict[str, str]:
        if not self.by_fields:
            return {"token": self.token, "qrraw": query.to_qr()}
        roubles, kopecks = divmod(query.total_kopecks, 100)
        return {"token": self.token, "fn": query.key.fn, "fd": str(query.key.fd), "fp": str(query.key.fp),
                "t": f"{query.issued_at:%Y%m%dT%H%M%S}", "n": str(query.operation), "s": f"{roubles}.{kopecks:02d}",
                "qr": "0"}


def _detail(body: dict[str, Any]) -> str:
    data = body.get("data")
    return str(data)[:200] if isinstance(data, str) else "no detail"
