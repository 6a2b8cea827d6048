"""Campaigns made in the console, over real HTTP on the local stack: a marketer writes one, the program file's rules
refuse what the file would (422, with the file's words), a role without campaigns gets 403, a launched campaign is
run by the next campaigns run beside the file's, a running one is not edited (409),
and every change is in the audit chain."""

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from loyalty import clock
from loyalty.adapters.dynamo import to_item
from loyalty.domain.receipt import MOSCOW
from loyalty_tools.local.stack import LocalStack
from tests.conftest import TEST_PROGRAM, worker_stack
from tests.integration.conftest import replies
from tests.integration.test_console import OWNER, call, signed_in

MARKETER, VIEWER = 42, 44


@pytest.fixture
def stack(aws_env: Path) -> LocalStack:
    return worker_stack().redeploy(receipts_dir=aws_env, program_file=TEST_PROGRAM, event_sources=False,
                                   retry_base_seconds=0, parameter_overrides={"ConsoleOwnerTelegramId": str(OWNER)})


def staff(stack: LocalStack, update_id: int, telegram_id: int, role: str) -> tuple[str, dict[str, Any]]:
    """A new staff member with `role`, signed in: (their cookie, who they are)."""
    cookie, owner = signed_in(stack, update_id, OWNER)
    assert call(stack, "PUT", f"/console/api/staff/{telegram_id}", cookie, {"role": role},
                {"X-CSRF-Token": owner["csrf"]})[0] == 200
    return signed_in(stack, update_id + 1, telegram_id)


def test_a_marketer_writes_launches_and_the_next_run_sends_a_console_broadcast_which_then_cannot_be_edited(
        stack: LocalStack) -> None:
    cookie, me = staff(stack, 500, MARKETER, "marketer")
    csrf = {"X-CSRF-Token": me["csrf"]}
    now = stack.now()
    news = {"title": "Новинка", "kind": "broadcast", "at": now.isoformat(),
            "messages": {"ru": {"text": "Новинка в каталоге! На счёте {balance} {balance_word}."}}}
    status, _, body = call(stack, "PUT", "/console/api/campaigns/news", cookie,
                           {"campaign": news, "segment": {"subscribed": True}}, csrf)
    assert status == 200 and json.loads(body)["state_words"] == "черновик"
    status, _, body = call(stack, "PUT", "/console/api/campaigns/bad", cookie,
                           {"campaign": {**news, "messages": {"ru": {"text": "Привет, {name}"}}}}, csrf)
    assert status == 422 and "unknown placeholder {name}" in json.loads(body)["message"]
    status, _, body = call(stack, "PUT", "/console/api/campaigns/vips", cookie,
                           {"campaign": {**news, "segment": "vips"}}, csrf)
    assert status == 422 and "no segment 'vips' in segments" in json.loads(body)["message"]  # the file's rule

    stack.aws("dynamodb").put_item(TableName="MembersTable", Item=to_item({
        "member_id": "7100001", "chat_id": 7_100_001, "language": "ru", "version": 0, "joined_at": now.isoformat()}))
    assert "news" not in stack.run_schedules(at=now)["CampaignsFunction"]["campaigns"]  # a draft is not run
    status, _, body = call(stack, "POST", "/console/api/campaigns/news/launch", cookie, None, csrf)
    assert status == 200 and json.loads(body)["state"] == "running"
    next_run = now + timedelta(minutes=15)
    assert stack.run_schedules(at=next_run)["CampaignsFunction"]["campaigns"]["news"] == 1  # the member reached

    status, _, body = call(stack, "GET", "/console/api/campaigns", cookie)
    (listed,) = json.loads(body)
    assert status == 200 and (listed["name"], listed["state_words"], listed["editable"]) == ("news", "идёт", False)
    assert listed["figures"]["audience"] == 1 and listed["figures"]["delivered"] == 0  # reached; not sent yet
    status, _, body = call(stack, "PUT", "/console/api/campaigns/news", cookie, {"campaign": news}, csrf)
    assert status == 409 and "нельзя изменить" in json.loads(body)["message"]

    owner_cookie, _ = signed_in(stack, 510, OWNER)
    status, _, body = call(stack, "GET", "/console/api/audit", owner_cookie)
    actions = [(entry["action"], entry.get("subject")) for entry in json.loads(body)]
    assert actions[:3] == [("sign_in", None), ("campaign_launched", "news"), ("campaign_saved", "news")]


def test_a_role_without_campaigns_is_refused_and_nothing_is_kept(stack: LocalStack) -> None:
    cookie, me = staff(stack, 520, VIEWER, "viewer")
    news = {"kind": "broadcast", "at": stack.now().isoformat(), "messages": {"ru": {"text": "Новинка"}}}
    assert call(stack, "PUT", "/console/api/campaigns/news", cookie, {"campaign": news},
                {"X-CSRF-Token": me["csrf"]})[0] == 403
    assert call(stack, "PUT", "/console/api/campaigns/news", cookie, {"campaign": news})[0] == 403  # no CSRF token
    assert call(stack, "POST", "/console/api/campaigns/news/launch", cookie, None,
                {"X-CSRF-Token": me["csrf"]})[0] == 403  # a role that cannot launch
    marketer, them = staff(stack, 525, MARKETER, "marketer")
    assert call(stack, "PUT", "/console/api/approval", marketer, {"members": 10},
                {"X-CSRF-Token": them["csrf"]})[0] == 403  # the threshold is the owner's
    status, _, body = call(stack, "GET", "/console/api/campaigns", cookie)
    assert status == 200 and json.loads(body) == []


def test_the_composer_counts_a_segment_as_it_is_built_those_a_message_can_reach_and_those_the_policy_holds_back(
        stack: LocalStack) -> None:
    """Three members, one of whom blocked the bot and one of whom had five campaign letters this week (the weekly
    cap): the count, the reachable, the held back at the broadcast's moment, a sample, and the bonus's cost."""
    cookie, me = staff(stack, 530, MARKETER, "marketer")
    now, dynamodb = stack.now(), stack.aws("dynamodb")
    for member, subscribed in (("7100011", True), ("7100012", True), ("7100013", False)):
        dynamodb.put_item(TableName="MembersTable", Item=to_item({
            "member_id": member, "chat_id": int(member), "language": "ru", "version": 0,
            "joined_at": clock.stamp(now), "subscribed": subscribed}))
    dynamodb.put_item(TableName="BotTable", Item={"pk": {"S": "contact#7100012"}, "sk": {"S": "sent"}, "sent": {
        "SS": [f"m:{clock.stamp(now - timedelta(days=day))}" for day in range(1, 6)]}})
    noon = (now + timedelta(days=1)).astimezone(MOSCOW).replace(hour=12, minute=0, second=0, microsecond=0)
    gift = {"kind": "broadcast", "at": noon.isoformat(), "bonus": {"points": 100, "expires_in_days": 7},
            "messages": {"ru": {"text": "Дарим {points} баллов"}}}
    status, _, body = call(stack, "POST", "/console/api/campaigns/audience", cookie,
                           {"segment": {"receipts": {"at_most": 0}}, "campaign": gift},
                           {"X-CSRF-Token": me["csrf"]})  # nobody has bought yet: all three
    reach = json.loads(body)
    assert status == 200 and (reach["members"], reach["reachable"], reach["held_back"]) == (3, 2, 1), body
    assert [one["number"] for one in reach["sample"]] == ["7100011", "7100012"]
    assert reach["sample"][0]["words"] == "0 покупок · 0 баллов"
    assert (reach["cost_points"], reach["cost_roubles"]) == (200, 200)  # 100 each, if both use it
    status, _, body = call(stack, "POST", "/console/api/campaigns/audience", cookie,
                           {"segment": {"receipts": {"more_than": 0}}}, {"X-CSRF-Token": me["csrf"]})
    assert status == 200 and json.loads(body) == {"members": 0, "reachable": 0, "held_back": 0, "sample": [],
                                                  "cost_points": 0, "cost_roubles": 0}
    status, _, body = call(stack, "POST", "/console/api/campaigns/audience", cookie,
                           {"segment": {"receipts": {"more": 1}}}, {"X-CSRF-Token": me["csrf"]})
    assert status == 422 and "receipts" in json.loads(body)["message"]


def test_a_marketer_sends_the_campaign_to_their_own_chat_before_launching(stack: LocalStack) -> None:
    cookie, me = staff(stack, 540, MARKETER, "marketer")
    offer = {"title": "Двойные баллы", "kind": "triggered", "bonus": {"multiplier": 2, "days": 5,
                                                                      "min_receipt_roubles": 1500},
             "messages": {"ru": {"text": "Купите на {min_receipt} ₽ за {days} {days_word}. На счёте {balance} "
                                         "{balance_word}.", "buttons": [{"text": "На сайт", "url": "https://a.ru"}]}}}
    status, _, body = call(stack, "POST", "/console/api/campaigns/test", cookie,
                           {"campaign": offer, "segment": {"receipts": {"more_than": 5}}}, {"X-CSRF-Token": me["csrf"]})
    assert status == 202 and json.loads(body)["sent_to"] == MARKETER
    (sent,) = [message for message in replies(stack) if message["chat_id"] == MARKETER]
    assert sent["text"] == "Купите на 1500 ₽ за 5 дней. На счёте 450 баллов."
    assert sent["reply_markup"] == {"inline_keyboard": [[{"text": "На сайт", "url": "https://a.ru"}]]}
    unknown = {**offer, "messages": {"ru": {"text": "{name}"}}}
    status, _, body = call(stack, "POST", "/console/api/campaigns/test", cookie, {"campaign": unknown},
                           {"X-CSRF-Token": me["csrf"]})
    assert status == 422  # what cannot be launched cannot be tested either
    assert call(stack, "GET", "/console/api/campaigns", cookie)[2] == "[]"  # a test keeps nothing
