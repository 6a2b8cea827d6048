"""`loyalty campaign dry-run | run | stats` against the stack on moto: the audience without a message sent,
a run that reaches each member once however often it is repeated, and the figures as a table or JSON."""

import contextlib
import io
import json
from datetime import timedelta

from loyalty import clock
from loyalty.contracts import ReceiptAccepted, Shopper
from loyalty.settings import PointAccrualSettings
from loyalty.wiring.accrual import point_accrual
from loyalty_tools.cli import main
from loyalty_tools.local.event_sources import scheduled_event
from loyalty_tools.local.stack import ROOT, LocalStack
from tests.conftest import daytime
from tests.integration.conftest import bodies

SHIPPED = ROOT / "program" / "program.yaml"


def lapsed_member(stack: LocalStack, member_id: str, days: int) -> None:
    """A member whose only purchase was `days` ago."""
    from loyalty.adapters.members import MembersRepository

    MembersRepository("MembersTable").join(member_id, int(member_id), "ru")
    accrual = point_accrual(PointAccrualSettings.model_validate(
        {**stack.functions.environment("PointAccrualFunction"), "PROGRAM_FILE": str(SHIPPED)}))()
    bought = clock.now() - timedelta(days=days)  # then, not now: its follow-ups fell due (and went stale) then too
    accrual.accrue(ReceiptAccepted(
        submission_id=f"tg-update:{member_id}", shopper=Shopper(member_id=member_id, chat_id=int(member_id),
                                                                language="ru"),
        fiscal_key=f"1:{member_id}:1", channel="d2c", channel_kind="d2c", store="lepestok.ru",
        brand_sum_kopecks=45_000, issued_at=bought), bought)
    bodies(stack, "OutboxQueue")


def cli(action: str, name: str, *args: str) -> tuple[int, str]:
    """The operator's command as typed (`loyalty campaign ACTION NAME …`), parsed by the CLI's own `main`."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = main(["campaign", action, name, "--program", str(SHIPPED), *args])
    return code, out.getvalue()


def test_a_dry_run_names_the_audience_and_sends_nothing_and_a_run_reaches_each_member_once(stack: LocalStack) -> None:
    lapsed_member(stack, "861", days=30)
    lapsed_member(stack, "862", days=10)  # not lapsed yet
    at = daytime(clock.now() + timedelta(hours=1)).replace(microsecond=0)  # as EventBridge gives a run's time
    code, out = cli("dry-run", "winback", "--at", at.isoformat(), "--json")
    assert code == 0 and json.loads(out) | {"at": None} == {"campaign": "winback", "at": None, "audience": 1,
                                                          "sample": ["861"]}
    assert bodies(stack, "CampaignQueue") == []
    code, out = cli("run", "winback", "--at", at.isoformat())
    assert (code, json.loads(out)) == (0, {"campaign": "winback", "selected": 1, "reached": 1})
    assert bodies(stack, "CampaignQueue") == []  # a letter: the postman sends it as the contact policy lets it
    stack.functions.invoke("CampaignsFunction", scheduled_event("campaigns", at))
    (message,) = bodies(stack, "CampaignQueue")
    # 45 for the purchase on the site, 200 for the shipped program's challenge «Первый заказ на сайте» it completed
    assert message["member_id"] == "861" and message["text"].startswith("Давно не виделись! На вашем счёте 245 баллов")
    # repeated: the cursor has moved on, and the touch is written
    code, out = cli("run", "winback", "--at", at.isoformat())
    stack.functions.invoke("CampaignsFunction", scheduled_event("campaigns", at))
    assert json.loads(out)["reached"] == 0 and bodies(stack, "CampaignQueue") == []
    code, out = cli("stats", "winback", "--json")
    assert json.loads(out) == {"campaign": "winback", "audience": 1, "sent": 0, "delivered": 0, "blocked": 0,
                               "converted": 0, "revenue_kopecks": 0, "points_given": 0, "points_spent": 0, "clicks": 0,
                               "conversion_percent": 0, "held": 0, "merged": 0, "dropped": 0, "stopped": 0,
                               "held_out": 0, "holdout_converted": 0, "holdout_revenue_kopecks": 0,
                               "budget_used": 0, "over_budget": 0, "skipped": 0}
    code, table = cli("stats", "winback")
    assert "reached (queued)" in table and table.splitlines()[1].split()[-1] == "1"


def test_an_unknown_campaign_is_named_and_refused() -> None:
    code, out = cli("stats", "nosuch", "--json")
    assert code == 2 and "no campaign 'nosuch'" in json.loads(out)["error"]
