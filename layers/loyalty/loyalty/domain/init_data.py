"""Telegram Mini App `initData`: who opened the app, signed by Telegram with a key only the bot's token derives.

Telegram's rule (core.telegram.org/bots/webapps, "Validating data received via the Mini App"): the data-check string
is every field but `hash`, as `key=value`, sorted by key, joined by newlines; the secret key is
HMAC-SHA256(key="WebAppData", message=bot token); `hash` is the hex HMAC-SHA256 of the data-check string under it.
A request is refused unless the hash matches (compared in constant time) and `auth_date` is recent. Pure: the
caller gives the token and the time.
"""


import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlencode

from pydantic import BaseModel, ConfigDict

_FUTURE_SKEW = timedelta(minutes=1)  # a client clock a little ahead is not an attack
_MAX_LENGTH = 8192


class Unauthorized(Exception):
    """initData missing, forged, stale or malformed; the message says which (for the log, never for the client)."""


class MiniAppUser(BaseModel):
    model_config = ConfigDict(defer_build=True)

    id: int
    language_code: str | None = None


def _secret(bot_token: str) -> bytes:
    return hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()


def _signature(fields: dict[str, str], bot_token: str) -> str:
    check = "\n".join(f"{key}={fields[key]}" for key in sorted(fields))
    return hmac.new(_secret(bot_token), check.encode(), hashlib.sha256).hexdigest()


def from_header(authorization: str | None, bot_token: str, now: datetime, max_age: timedelta) -> MiniAppUser:
    """The user an `Authorization: tma <initData>` header names (`verify`); Unauthorized for any other header."""
    scheme, _, data = (authorization or "").partition(" ")
    if scheme.lower() != "tma":
        raise Unauthorized("no `tma` authorization")
    return verify(data.strip(), bot_token, now, max_age)


def verify(init_data: str, bot_token: str, now: datetime, max_age: timedelta) -> MiniAppUser:
    """The user `init_data` names, if Telegram signed it for this bot within `max_age`; else Unauthorized."""
    if not init_data or len(init_data) > _MAX_LENGTH:
        raise Unauthorized("no initData" if not init_data else "initData too long")
    try:
        pairs = parse_qsl(init_data, keep_blank_values=True, strict_parsing=True)
    except ValueError as error:
        raise Unauthorized(f"initData is not a query string: {error}") from error
    fields = dict(pairs)
    if len(fields) != len(pairs):
        raise Unauthorized("a field appears twice")
    received = fields.pop("hash", "")
    if not hmac.compare_digest(received.encode(), _signature(fields, bot_token).encode()):
        raise Unauthorized("hash does not match")
    try:
        signed_at = datetime.fromtimestamp(int(fields["auth_date"]), UTC)
        user = MiniAppUser.model_validate(json.loads(fields["user"]))
    except (KeyError, ValueError, OverflowError) as error:
        raise Unauthorized(f"auth_date or user missing or malformed: {error}") from error
    if signed_at > now + _FUTURE_SKEW or now - signed_at > max_age:
        raise Unauthorized(f"initData signed at {signed_at.isoformat()}, outside {max_age} of now")
    return user


def sign(user: dict[str, object], bot_token: str, signed_at: datetime, **extra: str) -> str:
    """initData as Telegram makes it (the local Telegram emulator's Mini App links, and tests)."""
    fields = {"auth_date": str(int(signed_at.timestamp())), "user": json.dumps(user, separators=(",", ":")),
              **extra}
    return urlencode({**fields, "hash": _signature(fields, bot_token)})
