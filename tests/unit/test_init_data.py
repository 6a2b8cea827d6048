"""Telegram's initData signature, as the Mini App API checks it."""

from datetime import UTC, datetime, timedelta

import pytest

from loyalty.domain.init_data import Unauthorized, sign, verify

TOKEN = "123456:AAE-bot-token"
NOW = datetime(2026, 12, 1, 9, tzinfo=UTC)
HOUR = timedelta(hours=1)
USER = {"id": 7000042, "first_name": "Анна", "language_code": "ru"}


def test_initdata_signed_for_this_bot_names_its_user() -> None:
    data = sign(USER, TOKEN, NOW - timedelta(minutes=5), query_id="AAH")
    user = verify(data, TOKEN, NOW, HOUR)
    assert (user.id, user.language_code) == (7000042, "ru")


@pytest.mark.parametrize(("data", "why"), [
    (sign(USER, "999:another-bot", NOW), "hash does not match"),  # signed for another bot: forged here
    (sign(USER, TOKEN, NOW - 2 * HOUR), "outside"),  # stale
    (sign(USER, TOKEN, NOW + 2 * HOUR), "outside"),  # from the future
    (sign(USER, TOKEN, NOW).replace("7000042", "7000043"), "hash does not match"),  # another member, tampered
    (sign(USER, TOKEN, NOW) + "&user=%7B%22id%22%3A1%7D", "twice"),  # a second user appended
    ("", "no initData"),
    ("hash=&&&", "not a query string"),
    ("x" * 9000, "too long"),
])
def test_anything_else_is_refused(data: str, why: str) -> None:
    with pytest.raises(Unauthorized, match=why):
        verify(data, TOKEN, NOW, HOUR)


def test_a_signature_without_a_user_is_refused() -> None:
    from loyalty.domain.init_data import _signature  # a well-signed initData that names nobody

    fields = {"auth_date": str(int(NOW.timestamp()))}
    with pytest.raises(Unauthorized, match="user missing"):
        verify(f"auth_date={fields['auth_date']}&hash={_signature(fields, TOKEN)}", TOKEN, NOW, HOUR)
