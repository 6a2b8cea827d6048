"""What follows an accepted receipt, on the program file's script: the onboarding branch of the channel the member
first bought in, the nudges (to the brand's site, or between marketplaces) and the post-purchase survey.

An accepted receipt schedules them (AccrualQueue, keyed on the receipt: a replay schedules nothing twice); the
campaigns run sends what is due through CampaignQueue, paced, as a touch the campaign report counts (delivered,
converted, revenue). Nothing reaches a member who said /stop or blocked the bot; a nudge waits `every_days` between
two sends and never comes again after "не интересно"; a survey comes at most once every `every_days`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from loyalty.contracts import ReceiptAccepted
from loyalty.domain.bot_program import Nudge, Scripted, words
from loyalty.domain.campaigns import Touch
from loyalty.domain.conversation import FollowUp
from loyalty.domain.keyed import Keyed
from loyalty.domain.ledger import Holder, Posting
from loyalty.domain.messages import render
from loyalty.domain.program import Program
from loyalty.flows import keyboards
from loyalty.flows.campaigns import Touches
from loyalty.flows.ports import FollowUpStore, Ledger
from loyalty.observability import logger, metrics

SURVEY = "survey"
_SCRIPT_ORDER = {"onboarding": 0, SURVEY: 1, "nudge": 2}  # of follow-ups due together: what the shopper reads first
_GOODS_SHOWN = 3  # a survey names at most this many of the receipt's goods


def tracked_link(link_base: str, followup_id: str) -> str:
    """The address a nudge's button opens: it counts the click, then redirects to the brand's page."""
    return f"{link_base.rstrip('/')}/go/{followup_id}"


class FollowUps:
    def __init__(self, program: Program, table: FollowUpStore, ledger: Ledger, touches: Touches | None = None,
                 link_base: str = "", keyed: Keyed | None = None):
        self.program = program
        self.keyed = keyed  # the ids of scheduled follow-ups (a nudge's link): None on the sending side
        self.table = table
        self.ledger = ledger
        self.touches = touches  # None: only scheduling (the accrual side)
        self.link_base = link_base  # the HTTP API's address (tracked links); empty: the brand's link as it is

    # ------------------------------------------------------------------ scheduling, on an accepted receipt
    def after_receipt(self, purchase: Posting, accepted: ReceiptAccepted, now: datetime) -> int:
        """Schedule the follow-ups this receipt starts; returns how many were new. Their ids are keyed (a replayed
        receipt makes the same ones; nobody can forge a nudge's link from what the receipt prints)."""
        assert self.keyed is not None, "scheduling follow-ups needs the stack's key"
        bot, member_id, short_id = self.program.bot, accepted.shopper.member_id, self.keyed.id
        kind = accepted.channel_kind
        scheduled: list[FollowUp] = []
        context: dict[str, Any] = {"member_id": member_id, "fiscal_key": accepted.fiscal_key,
                                   "channel": accepted.channel, "store": accepted.store,
                                   "goods": [line.name for line in accepted.lines if line.name][:_GOODS_SHOWN]}
        if purchase.details.first_purchase:
            branch = accepted.channel if accepted.channel in bot.onboarding else kind
            for step, message in enumerate(bot.onboarding.get(branch, [])):
                scheduled.append(FollowUp(id=short_id(member_id, "onboarding", branch, str(step)), kind="onboarding",
                                          name=branch, step=step,
                                          due_at=now + timedelta(hours=message.after_hours), **context))
        for nudge in bot.nudges:
            if accepted.channel in nudge.after_purchase_in or kind in nudge.after_purchase_in:
                scheduled.append(FollowUp(id=short_id(member_id, "nudge", nudge.name, accepted.fiscal_key),
                                          kind="nudge", name=nudge.name,
                                          due_at=now + timedelta(hours=nudge.after_hours), **context))
        if bot.survey is not None:
            scheduled.append(FollowUp(id=short_id(member_id, SURVEY, accepted.fiscal_key), kind=SURVEY, name=SURVEY,
                                      due_at=now + timedelta(hours=bot.survey.after_hours), **context))
        return sum(self.table.schedule(followup) for followup in scheduled)

    # ------------------------------------------------------------------ sending, from the campaigns run
    def run(self, now: datetime) -> dict[str, int]:
        counts: dict[str, int] = {}
        # A receipt's follow-ups are often due at the same moment (a survey and a nudge, both 72 hours after it):
        # they go in the script's order, not in the order the due index happens to hold equal times.
        for followup in sorted(self.table.due(now), key=lambda f: (f.due_at, _SCRIPT_ORDER.get(f.kind, 9), f.step)):
            try:
                outcome = self.send(followup, now)
            except Exception:  # one member's trouble must not hold the others back; the next run retries it
                logger.exception("follow-up not sent", extra={"followup": followup.id, "member_id": followup.member_id})
                outcome = "failed"
            counts[outcome] = counts.get(outcome, 0) + 1
        if counts.get("sent"):
            metrics.add_metric(name="FollowUpsSent", unit="Count", value=counts["sent"])
        return counts

    def send(self, followup: FollowUp, now: datetime) -> str:
        """Queue one due follow-up (or skip it for good); returns sent or skipped."""
        assert self.touches is not None, "sending needs the campaign touches"
        holder = self.ledger.read(followup.member_id)[2]
        built = self._message(followup, holder, now) if holder.subscribed and holder.chat_id is not None else None
        if built is None:
            self.table.settle(followup.id, "skipped")
            return "skipped"
        campaign, text, buttons, goal_days, goal_channel = built
        touch = Touch(campaign=campaign, step=followup.step, member_id=followup.member_id,
                      key=f"{campaign}:{followup.step}:{followup.id}")
        self.touches.deliver(touch, holder, text, keyboards.inline_keyboard(buttons) if buttons else None, now,
                             goal_days=goal_days, goal_channel=goal_channel)
        if followup.kind != "onboarding":
            self.table.nudged(followup.member_id, followup.name, now)
        self.table.settle(followup.id, "sent")
        return "sent"

    def _message(self, followup: FollowUp, holder: Holder, now: datetime
                 ) -> tuple[str, str, list[list[tuple[str, str]]], int, str | None] | None:
        """(campaign name for the report, text, buttons, goal days, goal channel), or None: not to be sent. Only a
        nudge has a goal: an onboarding message or a survey never takes a purchase from the offer before it."""
        bot, language = self.program.bot, holder.language
        if followup.kind == "onboarding":
            steps = bot.onboarding.get(followup.name, [])
            if followup.step >= len(steps):
                return None
            step: Scripted = steps[followup.step]
            buttons = [[(self._fill(words(button.text, language), holder), button.url)] for button in step.buttons]
            return f"onboarding_{followup.name}", self._fill(words(step.text, language), holder), buttons, 0, None
        if followup.kind == "nudge":
            nudge: Nudge | None = bot.nudge(followup.name)
            if nudge is None or not self._may_nudge(followup.member_id, nudge.name, nudge.every_days, now):
                return None
            link = tracked_link(self.link_base, followup.id) if self.link_base else nudge.link.url
            buttons = [[(words(nudge.link.text, language), link)],
                       [(render("button_not_interested", language), f"nudge_off:{nudge.name}")]]
            return nudge.name, self._fill(words(nudge.text, language), holder), buttons, nudge.goal_days, \
                nudge.goal_channel
        survey = bot.survey
        if survey is None or not self._may_nudge(followup.member_id, SURVEY, survey.every_days, now):
            return None
        goods = ", ".join(followup.goods) or render("survey_goods_default", language)
        text = render("survey_question", language, goods=goods, store=followup.store)
        buttons = [[(str(rating), f"rate:{followup.id}:{rating}") for rating in range(1, 6)]]
        return SURVEY, text, buttons, 0, None

    def _may_nudge(self, member_id: str, name: str, every_days: int, now: datetime) -> bool:
        state = self.table.nudge_state(member_id, name)
        if state.get("stopped_at"):
            return False
        last = state.get("last_sent_at")
        return last is None or datetime.fromisoformat(str(last)) + timedelta(days=every_days) <= now

    def _fill(self, text: str, holder: Holder) -> str:
        """The program's own text, with {brand} (and {balance}) filled in."""
        text = text.replace("{brand}", self.program.brand.name)
        if "{balance}" in text:
            text = text.replace("{balance}", str(self.ledger.read(holder.member_id)[0].balance.available))
        return text
