"""The staff console over real HTTP on the local stack (moto behind it): /console in the bot gives a link, the link
signs in once, the session cookie is HttpOnly, Secure and SameSite=Strict, and every refusal — a stranger, a replayed
link, a forged cookie, a change without the CSRF token, a role that may not — is 401/403 and changes nothing. What
was done is in the audit table, chained, and `loyalty audit verify` proves it."""

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from loyalty.adapters.dynamo import to_item
from loyalty_tools.local.stack import LocalStack
from tests.conftest import TEST_PROGRAM, worker_stack
from tests.integration.conftest import post_update, replies
from tests.telegram_updates import telegram_update

OWNER, STRANGER = 7_000_001, 561


@pytest.fixture
def stack(aws_env: Path) -> Iterator[LocalStack]:
    yield worker_stack().redeploy(receipts_dir=aws_env, program_file=TEST_PROGRAM, event_sources=False,
                                  retry_base_seconds=0, parameter_overrides={"ConsoleOwnerTelegramId": str(OWNER)})


def say(stack: LocalStack, update_id: int, user_id: int, text: str) -> None:
    status, _ = post_update(stack, json.dumps(telegram_update(update_id, user_id, text)).encode(), {
        "Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": stack.webhook_secret})
    assert status == 200


def call(stack: LocalStack, method: str, path: str, cookie: str | None = None, body: Any = None,
         headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
    request = urllib.request.Request(stack.api.url + path, method=method,
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={**({"Cookie": cookie} if cookie else {}), **(headers or {}),
                                              **({"Content-Type": "application/json"} if body is not None else {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers.items()), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers.items()), error.read().decode()


def link_for(stack: LocalStack, update_id: int, user_id: int) -> str | None:
    say(stack, update_id, user_id, "/console")
    (message,) = [body for body in replies(stack) if body["chat_id"] == user_id]
    buttons = (message.get("reply_markup") or {}).get("inline_keyboard") or [[{}]]
    url = buttons[0][0].get("url")
    return url[len(stack.api.url):] if url else None


def signed_in(stack: LocalStack, update_id: int, user_id: int) -> tuple[str, dict[str, Any]]:
    link = link_for(stack, update_id, user_id)
    assert link is not None
    status, headers, _ = call(stack, "GET", link)
    assert status == 200
    cookie = headers["Set-Cookie"].split(";")[0]
    status, _, body = call(stack, "GET", "/console/api/me", cookie)
    assert status == 200
    return cookie, json.loads(body)


def test_a_staff_member_signs_in_once_by_the_bots_link_and_a_stranger_gets_no_link(stack: LocalStack) -> None:
    assert link_for(stack, 400, STRANGER) is None  # a shopper, a stranger: the help, no link
    link = link_for(stack, 401, OWNER)
    assert link is not None and link.startswith("/console/signin?t=")
    status, headers, page = call(stack, "GET", link)
    assert status == 200 and 'location.replace("/console/")' in page
    cookie = headers["Set-Cookie"]
    assert cookie.startswith("console_session=") and {"HttpOnly", "Secure", "SameSite=Strict", "Path=/console"} <= {
        part.strip() for part in cookie.split(";")}
    status, _, page = call(stack, "GET", link)  # the same link again
    assert status == 401 and "/console" in page and "Set-Cookie" not in call(stack, "GET", link)[1]
    status, _, body = call(stack, "GET", "/console/api/me", cookie.split(";")[0])
    me = json.loads(body)
    assert status == 200 and (me["telegram_id"], me["role"], me["role_words"]) == (OWNER, "owner", "владелец")


def test_every_refusal_is_401_or_403_and_changes_nothing(stack: LocalStack) -> None:
    cookie, me = signed_in(stack, 410, OWNER)
    name, _, value = cookie.partition("=")
    forged = f"{name}={value[:-2]}xx"
    assert call(stack, "GET", "/console/api/me")[0] == 401  # no cookie
    assert call(stack, "GET", "/console/api/me", forged)[0] == 401
    change = {"role": "support", "name": "Олег"}
    assert call(stack, "PUT", "/console/api/staff/42", cookie, change)[0] == 403  # no CSRF token
    assert call(stack, "PUT", "/console/api/staff/42", cookie, change, {"X-CSRF-Token": "guess"})[0] == 403
    assert call(stack, "PUT", "/console/api/staff/42", forged, change, {"X-CSRF-Token": me["csrf"]})[0] == 401
    status, _, body = call(stack, "GET", "/console/api/staff", cookie)
    assert status == 200 and [person["telegram_id"] for person in json.loads(body)] == [OWNER]  # nothing changed

    assert call(stack, "PUT", "/console/api/staff/42", cookie, change, {"X-CSRF-Token": me["csrf"]})[0] == 200
    support_cookie, support = signed_in(stack, 411, 42)
    assert support["role"] == "support" and "manage_staff" not in support["permissions"]
    assert call(stack, "PUT", "/console/api/staff/43", support_cookie, change,
                {"X-CSRF-Token": support["csrf"]})[0] == 403  # the role may not
    assert call(stack, "GET", "/console/api/audit", support_cookie)[0] == 403
    assert call(stack, "DELETE", f"/console/api/staff/{OWNER}", cookie, None, {"X-CSRF-Token": me["csrf"]})[0] == 409
    assert call(stack, "DELETE", "/console/api/staff/42", cookie, None, {"X-CSRF-Token": me["csrf"]})[0] == 204
    assert call(stack, "GET", "/console/api/me", support_cookie)[0] == 403  # removed: out at once


def test_every_action_is_in_the_audit_chain_and_a_changed_entry_is_found(stack: LocalStack) -> None:
    cookie, me = signed_in(stack, 420, OWNER)
    call(stack, "PUT", "/console/api/staff/42", cookie, {"role": "viewer", "name": "Ира"}, {"X-CSRF-Token": me["csrf"]})
    signed_in(stack, 421, 42)
    status, _, body = call(stack, "GET", "/console/api/audit", cookie)
    entries = json.loads(body)
    assert status == 200 and [(entry["seq"], entry["action"]) for entry in entries] == [
        (3, "sign_in"), (2, "staff_added"), (1, "sign_in")]
    assert entries[1]["after"] == {"role": "viewer", "name": "Ира"} and entries[1]["actor"]["telegram_id"] == OWNER
    status, _, body = call(stack, "GET", f"/console/api/audit?actor={42}", cookie)
    assert [entry["seq"] for entry in json.loads(body)] == [3]
    code, out, _ = stack.operator("audit", "verify")
    assert code == 0 and "3" in out
    stack.aws("dynamodb").update_item(TableName="AuditTable", Key=to_item({"chain": "audit", "seq": 2}),
                                      UpdateExpression="SET #after.#role = :owner",
                                      ExpressionAttributeNames={"#after": "after", "#role": "role"},
                                      ExpressionAttributeValues=to_item({":owner": "owner"}))
    code, out, _ = stack.operator("audit", "verify")
    assert code == 1 and "2" in out


def test_the_dashboard_answers_any_staff_member_and_a_csv_export_is_audited(stack: LocalStack) -> None:
    """The figures come from FiguresTable (a backfill's day here: 2 receipts on Wildberries on 10 November)."""
    stack.aws("dynamodb").put_item(TableName="FiguresTable", Item=to_item({
        "pk": "part#backfill", "sk": "2026-11-10", "receipts:wildberries": 2, "revenue:wildberries": 90_000,
        "joined:insert:wb": 1}))
    assert call(stack, "GET", "/console/api/dashboard")[0] == 401  # not signed in
    cookie, me = signed_in(stack, 430, OWNER)
    call(stack, "PUT", "/console/api/staff/44", cookie, {"role": "viewer"}, {"X-CSRF-Token": me["csrf"]})
    viewer_cookie, _ = signed_in(stack, 431, 44)
    status, _, body = call(stack, "GET", "/console/api/dashboard?since=2026-11-01&until=2026-12-01", viewer_cookie)
    board = json.loads(body)
    purchases = {row["label"]: row for row in next(t for t in board["tables"] if t["key"] == "purchases")["rows"]}
    assert status == 200 and board["period"] == "1–30 ноября 2026 против 2–31 октября 2026"
    assert (purchases["чеков"]["now"], purchases["чеков"]["before"], purchases["чеков"]["delta"]) == (2, 0, 2)
    assert purchases["выручка — Wildberries"]["now"] == 900.0
    status, _, body = call(stack, "GET", "/console/api/dashboard?since=2026-11-01&until=2026-12-01&lang=en",
                           viewer_cookie)
    assert json.loads(body)["tables"][0]["title"] == "Members"
    for wrong in ("since=30.11.2026", "since=2026-12-01&until=2026-11-01", "since=2020-01-01&until=2026-01-01"):
        status, _, body = call(stack, "GET", f"/console/api/dashboard?{wrong}", viewer_cookie)
        assert status == 422 and json.loads(body)["message"], wrong

    status, headers, text = call(stack, "GET", "/console/api/dashboard.csv?table=purchases&since=2026-11-01"
                                 "&until=2026-12-01", viewer_cookie)
    assert status == 200 and headers["Content-Type"].startswith("text/csv")
    assert headers["Content-Disposition"] == 'attachment; filename="purchases-2026-11-01-2026-11-30.csv"'
    assert text.startswith("\ufeffРаздел,Показатель,01.11.2026…30.11.2026,") and "Покупки,чеков,2,0,2," in text
    assert call(stack, "GET", "/console/api/dashboard.csv?table=nonsense", viewer_cookie)[0] == 404
    status, _, body = call(stack, "GET", "/console/api/audit", cookie)
    export = json.loads(body)[0]
    assert (export["action"], export["subject"], export["actor"]["telegram_id"]) == ("export", "dashboard:purchases",
                                                                                     44)


def test_the_charting_library_comes_from_our_own_origin(stack: LocalStack) -> None:
    status, headers, script = call(stack, "GET", "/console/static/chart.umd.min.js")
    assert status == 200 and headers["Content-Type"].startswith("text/javascript") and "Chart.js v4.6.2" in script
    assert call(stack, "GET", "/console/static/index.html")[0] == 404  # only what is vendored
    status, headers, page = call(stack, "GET", "/console/")
    assert '<script src="/console/static/chart.umd.min.js">' in page and "cdn" not in page.lower()
    assert "script-src 'self'" in headers["Content-Security-Policy"]
