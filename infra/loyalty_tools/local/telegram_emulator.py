"""A Telegram Bot API emulator: the bot's side speaks the real Bot API, the shopper's side is driven by
demos and tests.

Bot side (what python-telegram-bot reaches through `base_url`): getMe, sendMessage, sendPhoto, getFile, file
downloads, setWebhook, getWebhookInfo, deleteWebhook, with Telegram's error shapes (401 bad token,
400 chat not found, 403 blocked, 429 with retry_after) and its sending limits: about 30 messages a second per
bot, one a second per chat after a burst of five — a sender that is too fast gets 429s, as it would from Telegram.

Shopper side, under /emulator/: send a text, a contact, a photo or a document as a user, or tap a button (the
emulator builds the Update and POSTs it to the webhook with the secret header, as Telegram does), redeliver an
update, post a raw body, block the bot, make the next calls for a chat fail (429 with retry_after, or any
status), read any chat's transcript as JSON, and get the Mini App's address with initData signed as Telegram
signs it. `/chat` is a page where a person does all that in a browser.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import math
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from loyalty.domain import chat_limits, init_data
from loyalty_tools.local.http import JsonHandler, Server

_CHAT_PAGE = Path(__file__).parent / "chat.html"  # /chat: a person talks to the bot through this emulator
_WEBAPP_SCRIPT = Path(__file__).with_name("telegram-web-app.js")  # window.Telegram.WebApp, emulated
BOT_USER = {"id": 7000000001, "is_bot": True, "first_name": "Loyalty", "username": "loyalty_local_bot"}


@dataclass
class _State:
    token: str
    webhook_url: str = ""
    webhook_secret: str = ""
    transcripts: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    updates: dict[int, dict[str, Any]] = field(default_factory=dict)
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    blocked: set[int] = field(default_factory=set)
    failures: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # chat -> scripted errors
    bot_calls: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    seq: itertools.count[int] = field(default_factory=lambda: itertools.count(1))  # orders entries across chats
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))  # the stack's, which moves
    limits: _Limits = field(default_factory=lambda: _Limits())
    miniapp_url: str = ""  # the Mini App the chat's menu button opens (the stack's /miniapp/)
    menu_button: dict[str, Any] = field(default_factory=dict)  # what setChatMenuButton set
    queued: list[dict[str, Any]] = field(default_factory=list)  # updates for getUpdates, while no webhook is set
    answered: set[int] = field(default_factory=set)  # updates whose webhook answer was run
    arrived: threading.Condition = field(default_factory=threading.Condition)
    download_limit: int = 20 * 1024 * 1024  # getFile refuses bigger files, as the Bot API does
    prepared: dict[str, dict[str, Any]] = field(default_factory=dict)  # savePreparedInlineMessage, by its id
    webapp_calls: list[dict[str, Any]] = field(default_factory=list)  # what Mini App pages asked of Telegram
    home_screen: set[int] = field(default_factory=set)  # users who added the Mini App to their home screen
    invite_links: dict[str, int] = field(default_factory=dict)  # a private chat's invite link: its chat id
    join_requests: dict[int, set[int]] = field(default_factory=dict)  # chat -> users waiting for the admin's answer
    chat_members: dict[int, set[int]] = field(default_factory=dict)  # a group's members (the bot let in)
    banned: dict[int, set[int]] = field(default_factory=dict)

    def date(self) -> int:
        return int(self.clock().timestamp())


class _Limits:
    """Telegram's sending limits, on the real (monotonic) clock, as token buckets: "about 30 messages a second"
    per bot (a bucket of 30, refilled at 30 a second: a sender that keeps above it runs dry within seconds), and
    one a second per chat after a burst of five. Past them a call gets 429 with the `retry_after` to wait."""

    def __init__(self, per_second: int = 30, chat_burst: int = 5, chat_per_second: float = 1.0):
        self.per_second, self.chat_burst, self.chat_per_second = per_second, chat_burst, chat_per_second
        self.bot = (float(per_second), time.monotonic())  # (tokens, when counted)
        self.chats: dict[int, tuple[float, float]] = {}
        self.rejected = 0  # how many 429s were answered

    def take(self, chat_id: int) -> int:
        """0 if a message may go now (and it is counted), else the seconds to wait."""
        now = time.monotonic()
        bot = _refill(self.bot, self.per_second, self.per_second, now)
        chat = _refill(self.chats.get(chat_id, (float(self.chat_burst), now)), self.chat_burst,
                       self.chat_per_second, now)
        if bot >= 1 and chat >= 1:
            self.bot, self.chats[chat_id] = (bot - 1, now), (chat - 1, now)
            return 0
        self.rejected += 1
        wait = max((1 - bot) / self.per_second if bot < 1 else 0, (1 - chat) / self.chat_per_second if chat < 1 else 0)
        return max(1, math.ceil(wait))


def _refill(bucket: tuple[float, float], capacity: float, rate: float, now: float) -> float:
    tokens, counted = bucket
    return min(float(capacity), tokens + (now - counted) * rate)


class TelegramEmulator(Server):
    def __init__(self, token: str, host: str = "127.0.0.1", port: int = 0,
                 clock: Callable[[], datetime] | None = None):
        self.state = _State(token=token) if clock is None else _State(token=token, clock=clock)
        super().__init__(type("Handler", (_Handler,), {"state": self.state}), "telegram", host, port)

    def limit(self, per_second: int = 30, chat_burst: int = 5, chat_per_second: float = 1.0) -> None:
        """Telegram's sending limits from now on (until `reset`): Telegram's own by default."""
        with self.state.lock:
            self.state.limits = _Limits(per_second, chat_burst, chat_per_second)

    def reset(self) -> None:
        with self.state.lock:
            fresh = _State(token=self.state.token, clock=self.state.clock)
            for name in ("webhook_url", "webhook_secret", "transcripts", "updates", "files", "blocked",
                         "failures", "bot_calls", "limits", "seq", "queued", "download_limit", "answered"):
                setattr(self.state, name, getattr(fresh, name))


class _Handler(JsonHandler):
    state: _State

    def do_GET(self) -> None:
        self._route()

    def do_POST(self) -> None:
        self._route()

    # ------------------------------------------------------------------ routing
    def _route(self) -> None:
        path = unquote(urlsplit(self.path).path)  # clients may percent-encode the token's colon
        body = self.read_body()
        try:
            if path in ("/chat", "/chat/"):
                self.reply(200, _CHAT_PAGE.read_bytes(), "text/html; charset=utf-8")
            elif path == "/js/telegram-web-app.js":  # the Mini App's Telegram, as the chat hosts it
                self.reply(200, _WEBAPP_SCRIPT.read_bytes(), "text/javascript; charset=utf-8")
            elif path in ("/emulator/webapp", "/emulator/join"):  # from the Mini App's origin: readable there (CORS)
                status, payload = _Shopper(self.state).handle(self.command, path, body)
                self.reply(status, json.dumps(payload, ensure_ascii=False).encode(),
                           headers={"Access-Control-Allow-Origin": "*"})
            elif path.startswith("/emulator/"):
                self.reply_json(*_Shopper(self.state).handle(self.command, path, body))
            elif path.startswith("/file/bot"):
                self._file(path)
            elif path.startswith("/bot"):
                token, _, method = path[len("/bot"):].partition("/")
                self.reply_json(*_BotApi(self.state).call(token, method, self._params(body)))
            else:
                self.reply_json(404, {"ok": False, "error_code": 404, "description": "Not Found"})
        except Exception as error:  # an emulator bug must show up as a 500, not a hang
            self.reply_json(500, {"ok": False, "error_code": 500, "description": repr(error)})

    def _params(self, body: bytes) -> dict[str, Any]:
        kind = self.headers.get("Content-Type", "")
        params: dict[str, Any] = dict(parse_qsl(urlsplit(self.path).query))
        if kind.startswith("application/json") and body:
            params.update(json.loads(body))
        elif body:
            params.update(parse_qsl(body.decode(), keep_blank_values=True))
        for name, value in params.items():  # PTB sends nested objects as JSON strings in a form
            if isinstance(value, str) and value[:1] in "{[":
                with contextlib.suppress(ValueError):
                    params[name] = json.loads(value)
        return params

    def _file(self, path: str) -> None:
        token, _, file_path = path[len("/file/bot"):].partition("/")
        found = next((data for stored_path, data in self.state.files.values() if stored_path == file_path), None)
        if token != self.state.token or found is None:
            self.reply_json(404, {"ok": False, "error_code": 404, "description": "Not Found"})
            return
        self.reply(200, found, "application/octet-stream")


def _error(code: int, description: str, **parameters: Any) -> tuple[int, dict[str, Any]]:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return code, body


def _refused(text: str, caption: bool = False, markup: Any = None) -> tuple[int, dict[str, Any]] | None:
    description = chat_limits.refusal(text, caption, markup)
    return _error(400, description) if description else None


def _ok(result: Any) -> tuple[int, dict[str, Any]]:
    return 200, {"ok": True, "result": result}


class _BotApi:
    """The bot's side of the Bot API."""

    def __init__(self, state: _State):
        self.state = state

    def call(self, token: str, method: str, params: dict[str, Any],
             in_answer: bool = False) -> tuple[int, dict[str, Any]]:
        """A Bot API call; `in_answer`: one the webhook gave in its HTTP answer, which Telegram runs as it takes it."""
        if token != self.state.token:
            return _error(401, "Unauthorized")
        with self.state.lock:
            call = {"method": method, "params": params}
            self.state.bot_calls.append(call | {"in_answer": True} if in_answer else call)
        handler = getattr(self, f"_{method.lower()}", None)
        return handler(params) if handler else _error(404, "Not Found")

    def _getme(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        return _ok({**BOT_USER, "can_join_groups": False, "can_read_all_group_messages": False,
                    "supports_inline_queries": False})

    def _setwebhook(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        self.state.webhook_url = str(params.get("url", ""))
        self.state.webhook_secret = str(params.get("secret_token", ""))
        return _ok(True)

    def _deletewebhook(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        self.state.webhook_url = ""
        return _ok(True)

    def _getupdates(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Long polling, as Telegram does it: 409 while a webhook is set; `offset` confirms the updates before it;
        waits up to `timeout` seconds for one to arrive."""
        if self.state.webhook_url:
            return _error(409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook "
                               "to delete the webhook first")
        offset, timeout = int(params.get("offset") or 0), min(float(params.get("timeout") or 0), 50)
        deadline = time.monotonic() + timeout
        with self.state.arrived:
            self.state.queued[:] = [u for u in self.state.queued if u["update_id"] >= offset]
            while not self.state.queued and time.monotonic() < deadline:
                self.state.arrived.wait(deadline - time.monotonic())
            return _ok(list(self.state.queued[:100]))

    def _answercallbackquery(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        return _ok(True)

    def _approvechatjoinrequest(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        return self._join_answer(params, approve=True)

    def _declinechatjoinrequest(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        return self._join_answer(params, approve=False)

    def _join_answer(self, params: dict[str, Any], approve: bool) -> tuple[int, dict[str, Any]]:
        """As Telegram: only a request that is waiting can be answered (HIDE_REQUESTER_MISSING otherwise)."""
        chat, user = int(params.get("chat_id") or 0), int(params.get("user_id") or 0)
        with self.state.lock:
            waiting = self.state.join_requests.get(chat, set())
            if user not in waiting:
                return _error(400, "Bad Request: HIDE_REQUESTER_MISSING")
            waiting.discard(user)
            if approve:
                self.state.chat_members.setdefault(chat, set()).add(user)
        return _ok(True)

    def _banchatmember(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        chat, user = int(params.get("chat_id") or 0), int(params.get("user_id") or 0)
        with self.state.lock:
            self.state.chat_members.setdefault(chat, set()).discard(user)
            self.state.banned.setdefault(chat, set()).add(user)
        return _ok(True)

    def _unbanchatmember(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        chat, user = int(params.get("chat_id") or 0), int(params.get("user_id") or 0)
        with self.state.lock:
            self.state.banned.setdefault(chat, set()).discard(user)
        return _ok(True)

    def _savepreparedinlinemessage(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """A message a Mini App's user may send from Telegram's share sheet: kept an hour, as Telegram keeps it."""
        result = params.get("result")
        if not isinstance(result, dict) or result.get("type") not in ("article", "photo") or not params.get("user_id"):
            return _error(400, "Bad Request: result and user_id are required")
        if not any(params.get(f"allow_{kind}_chats") for kind in ("user", "bot", "group", "channel")):
            return _error(400, "Bad Request: no chat types allowed")
        prepared_id = f"prep{next(self.state.ids)}"
        with self.state.lock:
            self.state.prepared[prepared_id] = {"user_id": int(params["user_id"]), "result": result}
        return _ok({"id": prepared_id, "expiration_date": int(self.state.clock().timestamp()) + 3600})

    def _setchatmenubutton(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        self.state.menu_button = dict(params.get("menu_button") or {})
        return _ok(True)

    def _getwebhookinfo(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        return _ok({"url": self.state.webhook_url, "has_custom_certificate": False, "pending_update_count": 0})

    def _sendphoto(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        photo = str(params.get("photo") or "")
        if not photo.startswith("https://") and photo not in self.state.files:  # a URL, or a file_id it knows
            return _error(400, "Bad Request: wrong remote file identifier specified")
        refused = _refused(str(params.get("caption") or ""), caption=True)
        return refused or self._sendmessage({**params, "text": params.get("caption") or " "}, photo=photo)

    def _sendmessage(self, params: dict[str, Any], photo: str | None = None) -> tuple[int, dict[str, Any]]:
        try:
            chat_id = int(params.get("chat_id", ""))
        except ValueError:
            return _error(400, "Bad Request: chat not found")
        text = str(params.get("text") or "")
        with self.state.lock:
            if chat_id not in self.state.transcripts:
                return _error(400, "Bad Request: chat not found")
            if chat_id in self.state.blocked:
                return _error(403, "Forbidden: bot was blocked by the user")
            if self.state.failures.get(chat_id):
                failure = self.state.failures[chat_id].pop(0)
                status = int(failure.get("status", 429))
                if status == 429:
                    retry_after = int(failure.get("retry_after", 1))
                    return _error(429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after)
                return _error(status, str(failure.get("description", "Internal Server Error")))
            if not text.strip():
                return _error(400, "Bad Request: message text is empty")
            refused = _refused(text, markup=params.get("reply_markup"))
            if refused:
                return refused
            wait = self.state.limits.take(chat_id)
            if wait:
                return _error(429, f"Too Many Requests: retry after {wait}", retry_after=wait)
            message = {"message_id": next(self.state.ids), "date": self.state.date(), "from": BOT_USER,
                       "chat": {"id": chat_id, "type": "private"}, "text": text}
            self.state.transcripts[chat_id].append({
                "seq": next(self.state.seq), "from": "bot", "text": text, "reply_markup": params.get("reply_markup"),
                "message_id": message["message_id"], "date": message["date"], **({"photo": photo} if photo else {}),
            })
        return _ok(message)

    def _getfile(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        file_id = str(params.get("file_id", ""))
        if file_id not in self.state.files:
            return _error(400, "Bad Request: invalid file_id")
        path, data = self.state.files[file_id]
        if len(data) > self.state.download_limit:
            return _error(400, "Bad Request: file is too big")
        return _ok({"file_id": file_id, "file_unique_id": file_id[-12:], "file_size": len(data), "file_path": path})


class _Shopper:
    """The shopper's side, and the controls demos and tests use."""

    def __init__(self, state: _State):
        self.state = state

    def handle(self, method: str, path: str, body: bytes) -> tuple[int, Any]:
        parts = path.strip("/").split("/")[1:]
        request = json.loads(body) if body else {}
        if parts == ["send"] and method == "POST":
            return self._send(request)
        if parts == ["redeliver"] and method == "POST":
            update = self.state.updates.get(int(request["update_id"]))
            if update is None:
                return 404, {"error": "unknown update_id"}
            return 200, {"update": update, **self._deliver(json.dumps(update).encode())}
        if parts == ["raw"] and method == "POST":
            raw = request.get("body", "").encode()
            return 200, self._deliver(raw, request.get("secret"))
        if len(parts) == 2 and parts[0] == "chats" and method == "GET":
            with self.state.lock:
                return 200, list(self.state.transcripts.get(int(parts[1]), []))
        if len(parts) == 3 and parts[0] == "chats" and method == "POST":
            return self._control(int(parts[1]), parts[2], request)
        if parts == ["miniapp"] and method == "POST":
            return self._miniapp(request)
        if parts == ["calls"] and method == "GET":
            with self.state.lock:
                return 200, list(self.state.bot_calls)
        if parts == ["webapp"]:
            return self._webapp(method, request)
        if parts == ["join"] and method == "POST":
            return self._join(request)
        if len(parts) == 2 and parts[0] == "members" and method == "GET":
            with self.state.lock:
                return 200, sorted(self.state.chat_members.get(int(parts[1]), set()))
        return 404, {"error": "unknown emulator route"}

    def _control(self, chat_id: int, control: str, request: dict[str, Any]) -> tuple[int, Any]:
        """Open a chat (as if the shopper had written to the bot), block or unblock it, or script its failures."""
        with self.state.lock:
            if control == "open":
                self.state.transcripts.setdefault(chat_id, [])
            elif control == "block":
                self.state.blocked.add(chat_id)
            elif control == "unblock":
                self.state.blocked.discard(chat_id)
            elif control == "fail":
                times = int(request.pop("times", 1))
                self.state.failures.setdefault(chat_id, []).extend([request] * times)
            else:
                return 404, {"error": "unknown control"}
        return 200, {"ok": True}

    def _webapp(self, method: str, request: dict[str, Any]) -> tuple[int, Any]:
        """The emulated WebApp script's calls (telegram-web-app.js): recorded in order (GET lists them). A shared
        prepared message must be one the bot saved for this user; the home screen remembers who added the app."""
        if method == "GET":
            with self.state.lock:
                return 200, list(self.state.webapp_calls)
        user, name = int(request.get("user") or 0), str(request.get("method") or "")
        with self.state.lock:
            answer: dict[str, Any] = {"ok": True}
            if name == "shareMessage":
                prepared = self.state.prepared.get(str(request.get("id")))
                answer = {"sent": prepared is not None and prepared["user_id"] == user,
                          "message": prepared and prepared["result"]}
            if name == "addToHomeScreen":
                self.state.home_screen.add(user)
            if name in ("addToHomeScreen", "checkHomeScreenStatus"):
                answer = {"status": "added" if user in self.state.home_screen else "missed"}
            self.state.webapp_calls.append({**request, "answer": answer})
        return 200, answer

    def _join(self, request: dict[str, Any]) -> tuple[int, Any]:
        """A user opens a private chat's invite link (`link`, one the stack named with its chat, or `chat_id`): a
        join request the bot's webhook answers. A banned user cannot ask."""
        user = {"is_bot": False, "first_name": "Shopper", "language_code": "ru", **request["user"]}
        chat_id = int(request.get("chat_id") or self.state.invite_links.get(str(request.get("link")), 0))
        if not chat_id:
            return 404, {"error": "no chat behind this invite link"}
        with self.state.lock:
            if user["id"] in self.state.banned.get(chat_id, set()):
                return 403, {"error": "banned from this chat"}
            self.state.join_requests.setdefault(chat_id, set()).add(user["id"])
            update_id = next(self.state.ids) + 100_000
            update = {"update_id": update_id, "chat_join_request": {
                "chat": {"id": chat_id, "type": "supergroup", "title": "community"}, "from": user,
                "user_chat_id": user["id"], "date": self.state.date()}}
            self.state.updates[update_id] = update
        return 200, {"update": update, **self._deliver(json.dumps(update).encode())}

    def _miniapp(self, request: dict[str, Any]) -> tuple[int, Any]:
        """The chat's menu button: the Mini App's address with initData signed as Telegram signs it."""
        if not self.state.miniapp_url:
            return 404, {"error": "no Mini App on this stack"}
        user = {"is_bot": False, "first_name": "Shopper", "language_code": "ru", **request["user"]}
        signed = init_data.sign({k: user[k] for k in ("id", "first_name", "language_code")}, self.state.token,
                                self.state.clock())
        theme = json.dumps(request.get("theme") or {})
        return 200, {"url": f"{self.state.miniapp_url}#tgWebAppData={quote(signed)}"
                            f"&tgWebAppThemeParams={quote(theme)}"}

    def _send(self, request: dict[str, Any]) -> tuple[int, Any]:
        user = {"is_bot": False, "first_name": "Shopper", "language_code": "ru", **request["user"]}
        chat = request.get("chat") or {"id": user["id"], "type": "private", "first_name": user["first_name"]}
        if "callback" in request:
            return self._tap(user, chat, request["callback"])
        with self.state.lock:
            update_id = next(self.state.ids) + 100_000
            message: dict[str, Any] = {"message_id": next(self.state.ids), "date": self.state.date(),
                                       "chat": chat, "from": user}
            entry: dict[str, Any] = {"seq": next(self.state.seq), "from": "shopper", "date": message["date"],
                                     "user": user["id"], "name": user["first_name"]}
            if "reply_to" in request:  # a reply to one of the bot's messages in this chat
                replied = self._bot_message(chat, int(request["reply_to"]))
                if replied is None:
                    return 404, {"error": "no such bot message in this chat"}
                message["reply_to_message"] = replied
                entry["reply_to"] = replied["message_id"]
            if "text" in request:
                message["text"] = entry["text"] = request["text"]
                if request["text"].startswith("/"):
                    command = request["text"].split()[0]
                    message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
            if "contact" in request:
                message["contact"] = {"first_name": user["first_name"], **request["contact"]}
                entry["contact"] = message["contact"]
            for kind in ("photo", "document"):
                if kind in request:
                    data = base64.b64decode(request[kind]["base64"])
                    file_id = f"{kind}-{update_id}"
                    path = f"{kind}s/{file_id}.{request[kind].get('extension', 'jpg')}"
                    self.state.files[file_id] = (path, data)
                    described = {"file_id": file_id, "file_unique_id": file_id, "file_size": len(data)}
                    if kind == "photo":
                        message["photo"] = [{**described, "width": request[kind].get("width", 1280),
                                             "height": request[kind].get("height", 1280)}]
                    else:
                        message["document"] = {**described, "file_name": request[kind].get("file_name", path),
                                               "mime_type": request[kind].get("mime_type", "application/json")}
                    entry[kind] = file_id
            update = {"update_id": update_id, "message": message}
            self.state.updates[update_id] = update
            self.state.transcripts.setdefault(chat["id"], []).append(entry)
        return 200, {"update": update, **self._deliver(json.dumps(update).encode())}

    def _tap(self, user: dict[str, Any], chat: dict[str, Any], callback: dict[str, Any]) -> tuple[int, Any]:
        """A person tapped an inline button under one of the bot's messages: a callback_query update, with the
        button's data, sent only if the message really has that button (as Telegram does)."""
        with self.state.lock:
            message = self._bot_message(chat, int(callback["message_id"]))
            markup = (message or {}).get("reply_markup") or {}
            data = [button.get("callback_data") for row in markup.get("inline_keyboard", []) for button in row]
            if message is None or callback["data"] not in data:
                return 404, {"error": "no such button under that message"}
            update_id = next(self.state.ids) + 100_000
            query_id = str(next(self.state.ids))
            update = {"update_id": update_id, "callback_query": {
                "id": query_id, "from": user, "message": message, "chat_instance": str(chat["id"]),
                "data": callback["data"]}}
            self.state.updates[update_id] = update
            self.state.transcripts.setdefault(chat["id"], []).append(
                {"seq": next(self.state.seq), "from": "shopper", "date": self.state.date(), "user": user["id"],
                 "name": user["first_name"], "tapped": callback["data"], "message_id": message["message_id"]})
        return 200, {"update": update, **self._deliver(json.dumps(update).encode())}

    def _bot_message(self, chat: dict[str, Any], message_id: int) -> dict[str, Any] | None:
        """One of the bot's messages in a chat, as the Bot API shows it inside an update."""
        entry = next((entry for entry in self.state.transcripts.get(chat["id"], [])
                      if entry["from"] == "bot" and entry.get("message_id") == message_id), None)
        if entry is None:
            return None
        found = {"message_id": message_id, "date": entry["date"], "from": BOT_USER, "chat": chat}
        if entry.get("photo"):
            found |= {"photo": [{"file_id": entry["photo"], "file_unique_id": "p", "width": 1, "height": 1}],
                      "caption": entry["text"]}
        else:
            found["text"] = entry["text"]
        if entry.get("reply_markup"):
            found["reply_markup"] = entry["reply_markup"]
        return found

    def _deliver(self, body: bytes, secret: str | None = None) -> dict[str, Any]:
        """POST to the webhook as Telegram does; returns the webhook's HTTP `status` and how long its answer took
        (`webhook_ms`). A method in the webhook's answer is run, as Telegram runs it (answerCallbackQuery, or the one
        reply to a message).
        With no webhook set, the update waits for getUpdates (status 0)."""
        if not self.state.webhook_url:
            with contextlib.suppress(ValueError), self.state.arrived:
                self.state.queued.append(json.loads(body))
                self.state.arrived.notify_all()
            return {"status": 0}
        request = urllib.request.Request(self.state.webhook_url, data=body, method="POST", headers={
            "Content-Type": "application/json",
            "X-Telegram-Bot-Api-Secret-Token": self.state.webhook_secret if secret is None else secret,
        })
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                answer = response.read()
                status = response.status
        except urllib.error.HTTPError as error:
            return {"status": error.code, "webhook_ms": _ms_since(started)}
        except (urllib.error.URLError, TimeoutError) as error:  # no answer in time: a failed delivery, tried again
            return {"status": 504, "webhook_ms": _ms_since(started), "error": str(error)[:200]}
        with contextlib.suppress(ValueError):
            method = json.loads(answer or b"{}")
            if isinstance(method, dict) and method.get("method") and self._first_answer(body):
                params = {name: value for name, value in method.items() if name != "method"}
                _BotApi(self.state).call(self.state.token, str(method["method"]), params, in_answer=True)
        return {"status": status, "webhook_ms": _ms_since(started)}


    def _first_answer(self, body: bytes) -> bool:
        """Whether this is the first answer to its update that Telegram takes. Telegram runs a method only from the
        answer it got, and stops delivering an update once it has one; a redelivery here (`/redeliver`) stands for
        an update whose first answer never reached Telegram, so only one answer to an update is ever run."""
        with contextlib.suppress(ValueError, AttributeError):
            update_id = json.loads(body).get("update_id")
            with self.state.lock:
                if update_id in self.state.answered:
                    return False
                self.state.answered.add(update_id)
        return True


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)
