"""A receipt-service emulator speaking proverkacheka.com's API.

`POST /api/v1/check/get` with `token` and `qrraw` (or fn, fd, fp, t, n, s) answers HTTP 200 with a body
`code`: 1 and the receipt in `data.json`, or 0 (receipt incorrect), 2 (not received yet), 3 (request
limit), 4 (wait), 5 (other failure). Receipts come from a directory of JSON files in any shape the
normaliser reads, indexed by fiscal key; files added later are found on the next miss.

Controls under /emulator/: script failures (`fail` with a code or an HTTP status, for the next N
requests), make it slow (`delay`), add a receipt (`receipts`), and count the requests it served. `unreliable`
(for `make chaos`) fails a share of requests at random and answers each after a random delay.
"""

from __future__ import annotations

import json
import random
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from loyalty.domain.errors import DomainError
from loyalty.domain.qr import FiscalKey, parse_qr
from loyalty.domain.receipt import find_raw_receipts, fiscal_key_of
from loyalty_tools.local.http import JsonHandler, Server


class ReceiptEmulator(Server):
    def __init__(self, token: str, receipts_dir: Path | None = None, host: str = "127.0.0.1", port: int = 0):
        self.token = token
        self.receipts_dir = receipts_dir
        self.receipts: dict[FiscalKey, dict[str, Any]] = {}
        self.failures: list[dict[str, Any]] = []
        self.delay_seconds = 0.0
        self.requests_served = 0
        self.lock = threading.Lock()
        self.chaos: tuple[float, float, float] = (0.0, 0.0, 0.0)  # share failed, least and most delay (s)
        self.chaos_failures = 0
        self._random = random.Random(1)  # noqa: S311 (which calls fail, not a secret)
        self.rescan()
        super().__init__(type("Handler", (_Handler,), {"emulator": self}), "receipts", host, port)

    def reset(self) -> None:
        """Forget scripted failures and receipts added at run time; serve the directory's receipts."""
        with self.lock:
            self.failures.clear()
            self.receipts.clear()
            self.delay_seconds = 0.0
            self.requests_served = 0
            self.chaos, self.chaos_failures = (0.0, 0.0, 0.0), 0
        self.rescan()

    def unreliable(self, fail_ratio: float, min_delay: float = 0.0, max_delay: float = 0.0) -> None:
        """From now on fail `fail_ratio` of the requests (HTTP 503, or code 2 or 5 at random) and answer each after
        a delay between `min_delay` and `max_delay` seconds; `unreliable(0)` makes it reliable again."""
        with self.lock:
            self.chaos = (fail_ratio, min_delay, max_delay)

    def add(self, document: Any) -> list[FiscalKey]:
        keys = []
        for raw in find_raw_receipts(document):
            key = fiscal_key_of(raw)
            with self.lock:
                self.receipts[key] = raw
            keys.append(key)
        return keys

    def rescan(self) -> None:
        if self.receipts_dir is None:
            return
        for path in sorted(self.receipts_dir.glob("*.json")):
            try:
                self.add(json.loads(path.read_text(encoding="utf-8")))
            except (ValueError, DomainError):
                continue  # not a receipt file: the directory may hold other JSON

    def answer(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        with self.lock:
            self.requests_served += 1
            failure = self.failures.pop(0) if self.failures else None
            delay = self.delay_seconds
            ratio, least, most = self.chaos
            if ratio:
                delay += self._random.uniform(least, most)
                if failure is None and self._random.random() < ratio:
                    failure = self._random.choice(({"http_status": 503}, {"code": 2}, {"code": 5}))
                    self.chaos_failures += 1
        if delay:
            time.sleep(delay)
        if failure and "http_status" in failure:
            return int(failure["http_status"]), {"error": "scripted failure"}
        if failure:
            return 200, {"code": int(failure["code"]), "first": 0, "data": "scripted failure"}
        if form.get("token") != self.token:
            return 200, {"code": 5, "first": 0, "data": "Неверный токен"}
        qr = form.get("qrraw") or (
            f"t={form.get('t', '')}&s={form.get('s', '')}&fn={form.get('fn', '')}&i={form.get('fd', '')}"
            f"&fp={form.get('fp', '')}&n={form.get('n', '1')}"
        )
        try:
            query = parse_qr(qr)
        except DomainError:
            return 200, {"code": 0, "first": 0, "data": "Некорректные параметры запроса"}
        raw = self.receipts.get(query.key)
        if raw is None:
            self.rescan()
            raw = self.receipts.get(query.key)
        if raw is None or int(raw.get("totalSum", -1)) != query.total_kopecks:
            return 200, {"code": 0, "first": 0, "data": "Чек некорректен"}
        return 200, {"code": 1, "first": 0, "data": {"json": raw, "html": ""}, "request": {"qrraw": qr}}


class _Handler(JsonHandler):
    emulator: ReceiptEmulator

    def do_GET(self) -> None:
        if urlsplit(self.path).path == "/emulator/requests":
            self.reply_json(200, {"served": self.emulator.requests_served})
        else:
            self.reply_json(404, {"error": "not found"})

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        body = self.read_body()
        if path == "/api/v1/check/get":
            self.reply_json(*self.emulator.answer(dict(parse_qsl(body.decode(errors="replace")))))
            return
        request = json.loads(body) if body else {}
        with self.emulator.lock:
            if path == "/emulator/fail":
                spec = {key: request[key] for key in ("code", "http_status") if key in request}
                self.emulator.failures.extend([spec] * int(request.get("times", 1)))
            elif path == "/emulator/delay":
                self.emulator.delay_seconds = float(request.get("seconds", 0))
            elif path != "/emulator/receipts":
                self.reply_json(404, {"error": "not found"})
                return
        if path == "/emulator/receipts":
            keys = self.emulator.add(request)
            self.reply_json(200, {"added": [str(key) for key in keys]})
            return
        self.reply_json(200, {"ok": True})
