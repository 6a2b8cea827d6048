"""A Mindbox emulator speaking the v3 operations API, as ../shared/crm/MINDBOX.md describes it.

`POST /v3/operations/{sync|async}?endpointId=…&operation=…&transactionId=…` with `Authorization: SecretKey …`
(or the older `Mindbox secretKey="…"`). It knows the project's operations by the names the program gives them,
checks the request's shape, keeps customers (by the Telegram id, with their phone, fields and subscriptions),
orders (by externalSystemId) and balances, and answers a repeated transactionId `TransactionAlreadyProcessed`.

Controls under /emulator/: `fail` (answer an HTTP status, for the next N requests or until cleared), `delay`
(answer slowly), `limit` (requests a minute per operation, 429 above it, as Mindbox's 8,000), and `state`
(everything it received and keeps, as JSON).
"""

from __future__ import annotations

import copy
import json
import re
import threading
import time
from collections import defaultdict, deque
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from loyalty.domain.program import Mindbox
from loyalty_tools.local.http import JsonHandler, Server

_PHONE = re.compile(r"^[1-9]\d{9,14}$")  # digits only (MINDBOX.md), an E.164 number without its +


class MindboxEmulator(Server):
    def __init__(self, secret: str, config: Mindbox, host: str = "127.0.0.1", port: int = 0):
        self.secret = secret
        self.config = config
        self.lock = threading.Lock()
        self.reset()
        super().__init__(type("Handler", (_Handler,), {"emulator": self}), "mindbox", host, port)

    @property
    def config(self) -> Mindbox:
        return self._config

    @config.setter
    def config(self, config: Mindbox) -> None:
        """The brand's Mindbox settings (a redeployed local stack may bring others)."""
        ops = config.operations
        self._config = config
        # What each of the project's operations does (two events may share one, e.g. an edit).
        self.actions = {ops.member_registered: "register", ops.member_updated: "edit", ops.level_changed: "edit",
                        ops.receipt_accepted: "order", ops.points_changed: "balance",
                        ops.unsubscribed: "unsubscribe", ops.deleted: "delete"}

    def reset(self) -> None:
        with self.lock:
            self.customers: dict[str, dict[str, Any]] = {}
            self.orders: dict[str, dict[str, Any]] = {}
            self.balances: dict[str, int] = defaultdict(int)
            self.transactions: dict[str, str] = {}  # transactionId -> the operation it applied
            self.operations: list[dict[str, Any]] = []  # every request, in order of arrival
            self.failure: dict[str, Any] | None = None
            self.delay_seconds = 0.0
            self.limit_per_minute: int | None = None
            self.window: dict[str, deque[float]] = defaultdict(deque)
            self.counts: dict[str, int] = defaultdict(int)

    # ------------------------------------------------------------------ controls
    def fail(self, status: int, count: int | None = None) -> None:
        """Answer `status` to the next `count` requests (None: until `recover`)."""
        with self.lock:
            self.failure = {"status": status, "left": count}

    def recover(self) -> None:
        with self.lock:
            self.failure = None

    def state(self) -> dict[str, Any]:
        with self.lock:
            return {
                "customers": list(self.customers.values()),
                "orders": list(self.orders.values()),
                "balances": dict(self.balances),
                "operations": list(self.operations),
                "counts": dict(self.counts),
            }

    # ------------------------------------------------------------------ the API
    def answer(self, path: str, query: dict[str, str], headers: dict[str, str], body: bytes) -> tuple[int, Any]:
        if self.delay_seconds:
            time.sleep(self.delay_seconds)
        with self.lock:
            self.counts["requests"] += 1
            status, answer = self._answer(path, query, headers, body)
            self.counts[f"http_{status}"] += 1
            if isinstance(answer, dict) and answer.get("status"):
                self.counts[answer["status"]] += 1
            return status, answer

    def _refusal(self, path: str, query: dict[str, str], headers: dict[str, str]) -> tuple[int, dict[str, Any]] | None:
        """What Mindbox answers before it reads the body: a scripted failure, a wrong address, key, endpoint or
        operation, or its rate limit (the call's data is not stored); None: on to the body."""
        if self.failure is not None:
            status = self.failure["status"]
            if self.failure["left"] is not None:
                self.failure["left"] -= 1
                if self.failure["left"] <= 0:
                    self.failure = None
            return status, _error("InternalServerError" if status >= 500 else "ProtocolError", status,
                                  "scripted failure")
        if not re.fullmatch(r"/v3/operations/(sync|async)", path):
            return 404, _error("ProtocolError", 404, "Not found")
        if not self._authorized(headers.get("authorization", "")):
            return 401, _error("ProtocolError", 401, "Authorization failed")
        if query.get("endpointId") != self.config.endpoint_id:
            return 400, _error("ProtocolError", 400, f"Unknown endpointId {query.get('endpointId')!r}")
        operation = query.get("operation", "")
        if operation not in self.actions:
            return 400, _error("ProtocolError", 400, f"Operation {operation!r} not found")
        if self.limit_per_minute is not None and not self._within_limit(operation):
            return 429, _error("ProtocolError", 429, "Too many requests")
        return None

    def _answer(self, path: str, query: dict[str, str], headers: dict[str, str],
                body: bytes) -> tuple[int, dict[str, Any]]:
        refused = self._refusal(path, query, headers)
        if refused is not None:
            return refused
        operation = query.get("operation", "")
        action = self.actions[operation]
        try:
            data = json.loads(body)
            customer = data["customer"]
            ids = customer["ids"]
            if not isinstance(ids, dict):
                raise TypeError("ids")
        except (ValueError, KeyError, TypeError):
            return 400, _error("ProtocolError", 400, "Request body is not an operation's JSON (customer.ids)")
        transaction = query.get("transactionId")
        if transaction and transaction in self.transactions:
            self._log(operation, transaction, "TransactionAlreadyProcessed", data)
            return 200, {"status": "TransactionAlreadyProcessed"}
        problems = self._apply(action, ids, customer, data)
        if problems:
            self._log(operation, transaction, "ValidationError", data)
            return 200, {"status": "ValidationError",
                         "validationMessages": [{"message": message, "location": location}
                                                for location, message in problems]}
        if transaction:
            self.transactions[transaction] = operation
        self._log(operation, transaction, "Success", {"erased": True} if action == "delete" else data)
        return 200, {"status": "Success", "customer": {"processingStatus": "Found"}}

    def _authorized(self, header: str) -> bool:
        return header in (f"SecretKey {self.secret}", f'Mindbox secretKey="{self.secret}"')

    def _within_limit(self, operation: str) -> bool:
        now, window = time.monotonic(), self.window[operation]
        while window and window[0] <= now - 60:
            window.popleft()
        assert self.limit_per_minute is not None
        if len(window) >= self.limit_per_minute:
            self.counts["rate_limited"] += 1
            return False
        window.append(now)
        return True

    def _apply(self, action: str, ids: dict[str, Any], customer: dict[str, Any],
               data: dict[str, Any]) -> list[tuple[str, str]]:
        key = str(ids.get(self.config.telegram_id) or "")
        if not key:
            return [(f"/customer/ids/{self.config.telegram_id}", "Customer identifier is required")]
        known = self.customers.get(key)
        if action == "register":
            phone = str(customer.get("mobilePhone") or "")
            if not _PHONE.fullmatch(phone):
                return [("/customer/mobilePhone", f"Invalid mobile phone {phone!r}")]
            record = known or {"ids": {self.config.telegram_id: key}}
            record.update(copy.deepcopy({name: value for name, value in customer.items() if name != "ids"}))
            self.customers[key] = record
            return []
        if known is None or known.get("deleted"):
            return [("/customer", "Customer not found")]
        if action in ("edit", "unsubscribe"):
            for name, value in customer.items():
                if name == "customFields":
                    known.setdefault("customFields", {}).update(value)
                elif name != "ids":
                    known[name] = copy.deepcopy(value)
            return []
        if action == "delete":
            self._forget(key)
            return []
        if action == "order":
            return self._order(key, data)
        return self._balance(key, data)

    def _forget(self, key: str) -> None:
        """A customer's personal data deleted, as 152-ФЗ asks of the CRM too: the profile, their orders' link to
        them, their balance, and what the operations log kept of them."""
        del self.customers[key]
        self.balances.pop(key, None)
        for order in self.orders.values():
            if order.get("customer") == key:
                order["customer"] = None
        for logged in self.operations:
            ids = ((logged.get("body") or {}).get("customer") or {}).get("ids") or {}
            if str(ids.get(self.config.telegram_id)) == key:
                logged["body"] = {"erased": True}

    def _order(self, key: str, data: dict[str, Any]) -> list[tuple[str, str]]:
        order = data.get("order")
        if not isinstance(order, dict) or not (order.get("ids") or {}).get("externalSystemId"):
            return [("/order/ids/externalSystemId", "Order identifier is required")]
        if not isinstance(order.get("totalPrice"), int | float) or not isinstance(order.get("lines"), list):
            return [("/order", "totalPrice and lines are required")]
        self.orders[order["ids"]["externalSystemId"]] = {"customer": key, **order,
                                                         "executionDateTimeUtc": data.get("executionDateTimeUtc")}
        return []

    def _balance(self, key: str, data: dict[str, Any]) -> list[tuple[str, str]]:
        changes = data.get("balanceChanges")
        if not isinstance(changes, list) or not changes:
            return [("/balanceChanges", "At least one balance change is required")]
        for change in changes:
            if not isinstance(change.get("changeAmount"), int):
                return [("/balanceChanges/changeAmount", "changeAmount must be a whole number")]
            system = ((change.get("balanceType") or {}).get("ids") or {}).get("systemName")
            if system != self.config.balance_type:
                return [("/balanceChanges/balanceType", f"Unknown balance type {system!r}")]
        for change in changes:
            self.balances[key] += change["changeAmount"]
        return []

    def _log(self, operation: str, transaction: str | None, status: str, data: dict[str, Any]) -> None:
        self.operations.append({"operation": operation, "transactionId": transaction, "status": status,
                                "at": time.time(), "body": copy.deepcopy(data)})


def _error(status: str, http: int, message: str) -> dict[str, Any]:
    return {"status": status, "errorMessage": message, "errorId": f"local-{http}", "httpStatusCode": http}


class _Handler(JsonHandler):
    emulator: MindboxEmulator

    def do_POST(self) -> None:
        url = urlsplit(self.path)
        body = self.read_body()
        if url.path.startswith("/emulator/"):
            self._control(url.path.removeprefix("/emulator/"), body)
            return
        status, answer = self.emulator.answer(url.path, dict(parse_qsl(url.query)),
                                              {k.lower(): v for k, v in self.headers.items()}, body)
        self.reply_json(status, answer)

    def do_GET(self) -> None:
        if urlsplit(self.path).path == "/emulator/state":
            self.reply_json(200, self.emulator.state())
        else:
            self.reply_json(404, _error("ProtocolError", 404, "Not found"))

    def _control(self, name: str, body: bytes) -> None:
        params = json.loads(body or b"{}")
        emulator = self.emulator
        if name == "fail":
            emulator.fail(int(params["status"]), params.get("count"))
        elif name == "recover":
            emulator.recover()
        elif name == "delay":
            emulator.delay_seconds = float(params["seconds"])
        elif name == "limit":
            emulator.limit_per_minute = params.get("per_minute")
        elif name == "reset":
            emulator.reset()
        else:
            self.reply_json(404, {"error": f"no control {name!r}"})
            return
        self.reply_json(200, {"ok": True})
