"""Whom a campaign being written would reach, read as a campaign run reads the members: everyone in its segment, those
a message can reach (not /stop-ped, not blocked), how many of them the contact policy would hold back at its moment
(quiet hours, spacing, caps), a sample of ten to check by eye, and what its bonus would cost if they all used it.

The policy's hold-back reads the reachable members' recent letters, a hundred to a request: the console counts what a
run would send, so it reads what a run would read."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict

from loyalty.domain import contact
from loyalty.domain.bonus_cost import POINT_ROUBLES, campaign_cost, member_cost
from loyalty.domain.bot_program import words
from loyalty.domain.messages import plural
from loyalty.flows.campaigns import audience_member

if TYPE_CHECKING:
    from loyalty.domain.campaigns import Campaign
    from loyalty.domain.contact import Sent
    from loyalty.domain.program import Program
    from loyalty.domain.segments import Member, Segment
    from loyalty.flows.ports import Audience

SAMPLE = 10
_WEEK = timedelta(days=7)


class ContactLog(Protocol):
    """The letters that reached members lately (adapters/bot_table.py)."""

    def contacts_of(self, member_ids: list[str], since: datetime) -> dict[str, list[Sent]]: ...


class SampleMember(BaseModel):
    model_config = ConfigDict(defer_build=True)

    number: str  # the member's number, as support finds them
    words: str  # what the segment read about them, in words


class Reach(BaseModel):
    model_config = ConfigDict(defer_build=True)

    members: int  # everyone in the segment
    reachable: int  # of them, those a message can reach
    held_back: int = 0  # of those, whom the contact policy would hold back at the campaign's moment
    sample: list[SampleMember] = []
    cost_points: int = 0  # the bonus, if everyone reachable used it (less the holdout, within the budget)
    cost_roubles: int = 0


class ReachCounter:
    def __init__(self, program: Program, audience: Audience, contacts: ContactLog | None = None):
        self.program = program
        self.audience = audience
        self.contacts = contacts

    def reach(self, segment: Segment, campaign: Campaign | None, now: datetime) -> Reach:
        moment = max(campaign.at, now) if campaign is not None and campaign.at is not None else now
        policy = self.program.contact
        members = reachable = costs = 0
        sample: list[SampleMember] = []
        zones: dict[str, ZoneInfo] = {}  # each reachable member's time zone, for the policy's quiet hours
        for item in self.audience.everyone():
            holder, member = audience_member(item, now)
            if not segment.matches(member, now):
                continue
            members += 1
            if not holder.subscribed or holder.chat_id is None:
                continue
            reachable += 1
            if len(sample) < SAMPLE:
                sample.append(SampleMember(number=holder.member_id, words=self._words(member)))
            if campaign is not None:
                per_member = campaign.budget.per_member_points if campaign.budget else None
                costs += member_cost(self.program, campaign.step(campaign.variant_of(holder.member_id)), member,
                                     per_member)
            zones[holder.member_id] = policy.zone(holder.language, holder.time_zone)
        held_back = 0
        if self.contacts is not None and zones:
            recent = self.contacts.contacts_of(list(zones), moment - _WEEK)
            held_back = sum(contact.next_slot(policy, zone, moment, recent[member], True) > moment
                            for member, zone in zones.items())
        cost = campaign_cost(campaign, costs) if campaign is not None else 0
        return Reach(members=members, reachable=reachable, held_back=held_back, sample=sample, cost_points=cost,
                     cost_roubles=cost * POINT_ROUBLES)

    def _words(self, member: Member) -> str:
        facts = member.facts
        parts = [f"{facts.receipts} {plural(facts.receipts, 'покупка', 'покупки', 'покупок')}"]
        if facts.receipts:
            parts.append(f"средний чек {facts.average_receipt_kopecks // 100:,} ₽".replace(",", " "))
        level = next((level for level in self.program.levels if level.id == member.level), None)
        if level is not None:
            parts.append(f"уровень «{words(level.title, 'ru')}»")
        parts.append(f"{member.balance} {plural(member.balance, 'балл', 'балла', 'баллов')}")
        return " · ".join(parts)
