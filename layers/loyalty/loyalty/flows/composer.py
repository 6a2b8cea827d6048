"""The console's campaigns (domain/composer.py): a marketer writes one, launches it, stops it or copies it; each change
is checked as the program file is, kept only over the version it was made from, and audited. The campaigns run, the
accrual flow, the postman and the campaign sender read the live ones through `ConsoleRead`, and run them beside the
program file's."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import BaseModel, ConfigDict, ValidationError

from loyalty.contracts import OutboundMessage
from loyalty.domain import campaign_results, composer, console
from loyalty.domain.audit import Action, Actor, Draft
from loyalty.domain.bot_program import words
from loyalty.domain.campaign_results import Results
from loyalty.domain.composer import ApprovalRule, Made, State
from loyalty.domain.console import Permission, Session
from loyalty.domain.segments import Segment
from loyalty.flows.campaigns import written
from loyalty.validation import problems

if TYPE_CHECKING:
    from loyalty.domain.campaigns import TouchRecord
    from loyalty.domain.program import Program
    from loyalty.domain.staff import StaffMember
    from loyalty.flows.ports import AuditTrail, Outbox
    from loyalty.flows.reach import Reach, ReachCounter

_SAMPLE_BALANCE = 450  # what a test message says the balance is
# A campaign without a segment: everyone a message can reach. Constructed, not validated: a function that never
# counts a reach builds no segment validator at its cold start.
_EVERYONE = Segment.model_construct(subscribed=True)


class CampaignDrafts(Protocol):
    """Where the console keeps its campaigns (adapters/console_table.py)."""

    def all_made(self) -> list[Made]: ...

    def keep(self, made: Made) -> None: ...

    def approval_rule(self) -> ApprovalRule: ...

    def set_approval_rule(self, rule: ApprovalRule) -> None: ...


class CampaignFigures(Protocol):
    """A campaign's counters (adapters/campaign_store.py): reached, delivered, blocked, converted, stopped..."""

    def stats(self, campaign: str) -> dict[str, int]: ...

    def touches(self, campaign: str) -> Iterable[TouchRecord]: ...

    def cursor(self, campaign: str) -> datetime | None: ...


class CampaignView(BaseModel):
    """A console campaign as its page shows it: in words, with what the composer edits."""

    model_config = ConfigDict(defer_build=True)

    name: str
    title: str
    kind: str
    state: State
    state_words: str
    version: int
    changed_at: datetime | None
    editable: bool
    campaign: dict[str, Any]
    segment: dict[str, Any] | None
    figures: dict[str, int] = {}  # its counters so far: reached (audience), delivered, converted, stopped...
    approval_asked: str | None = None  # its launch waits for the owner: why


def view(made: Made, figures: dict[str, int] | None = None) -> CampaignView:
    return CampaignView(name=made.name, title=made.campaign.title or made.name, kind=made.campaign.kind,
                        state=made.state, state_words=composer.STATE_WORDS[made.state], version=made.version,
                        changed_at=made.changed_at, editable=made.state in composer.EDITABLE,
                        campaign=made.campaign.model_dump(mode="json", exclude_defaults=True),
                        segment=made.segment.model_dump(mode="json", exclude_defaults=True) if made.segment else None,
                        figures=figures or {}, approval_asked=made.approval_asked)


class CampaignResults(BaseModel):
    model_config = ConfigDict(defer_build=True)

    name: str
    title: str
    state_words: str
    goal_days: int
    holdout_percent: int
    results: Results


class Composer:
    def __init__(self, program: Program, drafts: CampaignDrafts, audit: AuditTrail, counter: ReachCounter | None = None,
                 outbox: Outbox | None = None, figures: CampaignFigures | None = None,
                 owners: Callable[[], list[int]] | None = None):
        self.program = program
        self.owners = owners  # the owners' Telegram ids: a launch over the threshold asks them
        self.counter = counter  # whom a campaign being written reaches, and at what cost
        self.figures = figures  # each campaign's counters, on its row
        self.drafts = drafts
        self.audit = audit
        self.outbox = outbox  # a test sent to the marketer's own chat

    def test(self, staff: StaffMember, document: dict[str, Any], segment: dict[str, Any] | None,
             now: datetime) -> str:
        """The campaign's message (each variant's), as a member would get it today (a balance of 450 points, the
        bonus's own days and minimum receipt), sent to the marketer's own Telegram chat before launching: the texts."""
        console.allow(staff.role, Permission.CAMPAIGNS)
        assert self.outbox is not None, "a test needs the outbox"
        campaign = composer.drafted(document, segment, now).campaign
        texts = []
        for index in range(max(1, len(campaign.variants))):  # each variant, in order
            step = campaign.step(index)
            texts.append(written(step, "ru", self.program.brand.name, None, {"balance": _SAMPLE_BALANCE, "points": 0},
                                 self._sample_words(staff)))
            self.outbox.put(OutboundMessage(dedupe_key=f"campaign-test:{staff.telegram_id}:{now.isoformat()}:{index}",
                                            chat_id=staff.telegram_id, text=texts[-1],
                                            reply_markup=step.messages["ru"].keyboard()))
        return "\n\n".join(texts)

    def results(self, name: str) -> CampaignResults:
        """A campaign's page: what it reached and what came of it, against its holdout (the console's or the program
        file's campaign)."""
        assert self.figures is not None, "results need the campaigns' figures"
        made = self._everyone().get(name)
        campaign = made.campaign if made is not None else self.program.campaign(name)
        if campaign is None:
            raise composer.CampaignRefused(f"Кампании {name!r} нет.", status=404)
        figures = campaign_results.results(self.figures.stats(name), self.figures.touches(name),
                                           campaign.goal.within_days, campaign.budget,
                                           [variant.label for variant in campaign.variants])
        return CampaignResults(name=name, title=campaign.title or name, goal_days=campaign.goal.within_days,
                               holdout_percent=campaign.holdout_percent,
                               state_words=composer.STATE_WORDS[self._as_it_stands(made)[0].state] if made
                               else "из файла программы",
                               results=figures)

    def _sample_words(self, staff: StaffMember) -> dict[str, str | None]:
        """A test message's member: the marketer by name, on the first level, who last bought the catalog's first."""
        levels, catalog = self.program.levels, self.program.brand.catalog
        return {"first_name": staff.name or None, "level": words(levels[0].title, "ru") if levels else None,
                "last_product": catalog[0].name if catalog else None}

    def campaigns(self) -> list[CampaignView]:
        return [view(*self._as_it_stands(made)) for made in sorted(self.drafts.all_made(), key=lambda made: made.name)]

    def _as_it_stands(self, made: Made) -> tuple[Made, dict[str, int] | None]:
        """The campaign with its figures so far, a broadcast that has all gone out read as finished."""
        if self.figures is None or made.state == State.DRAFT:
            return made, None
        figures = self.figures.stats(made.name)
        done = made.campaign.at is not None and composer.finished(made, self.figures.cursor(made.name), figures)
        return (made.model_copy(update={"state": State.FINISHED}) if done else made), figures

    def reach(self, staff: StaffMember, segment: dict[str, Any], campaign: dict[str, Any] | None,
              now: datetime) -> Reach:
        """Whom the campaign being written reaches now (flows/reach.py): its segment's members, the reachable, those
        the contact policy would hold back, a sample, and its bonus's cost if all used it."""
        console.allow(staff.role, Permission.CAMPAIGNS)
        assert self.counter is not None, "counting needs the members"
        try:
            built = Segment.model_validate(segment)
        except ValidationError as error:
            raise composer.CampaignRefused(problems(error, "segment"), status=422) from error
        try:  # a campaign half written is counted as a segment alone: its cost comes once it reads
            drafted = composer.drafted({"name": "draft", **campaign}, segment, now).campaign if campaign else None
        except composer.CampaignRefused:
            drafted = None
        return self.counter.reach(built, drafted, now)

    def save(self, session: Session, staff: StaffMember, document: dict[str, Any], segment: dict[str, Any] | None,
             now: datetime) -> CampaignView:
        """A new campaign, or a draft or scheduled one rewritten (a running one is refused: stop it, or copy it)."""
        console.allow(staff.role, Permission.CAMPAIGNS)
        written, everyone = composer.drafted(document, segment, now), self._everyone()
        before = everyone.get(written.name)
        return self._kept(session, staff, everyone, before, composer.edited(before, written), Action.CAMPAIGN_SAVED,
                          now)

    def launch(self, session: Session, staff: StaffMember, name: str, now: datetime) -> CampaignView:
        """A draft launched; one over the owner's threshold is launched by the owner: a marketer's launch asks the
        owner (in the console, and in Telegram) and leaves it a draft."""
        console.allow(staff.role, Permission.CAMPAIGNS)
        everyone = self._everyone()
        before = _found(everyone, name)
        why = self._over_threshold(before, now)
        if why is not None and Permission.APPROVE not in console.PERMISSIONS[staff.role]:
            view = self._kept(session, staff, everyone, before, composer.asked(before, why, now),
                              Action.APPROVAL_ASKED, now, reason=why)
            self._ask_owners(staff, before, why, now)
            return view
        return self._kept(session, staff, everyone, before, composer.launched(before, now), Action.CAMPAIGN_LAUNCHED,
                          now, reason=f"одобрено владельцем: {why}" if why else None)

    def approval_rule(self, staff: StaffMember) -> ApprovalRule:
        console.allow(staff.role, Permission.CAMPAIGNS)
        return self.drafts.approval_rule()

    def set_approval_rule(self, session: Session, staff: StaffMember, rule: ApprovalRule,
                          now: datetime) -> ApprovalRule:
        """The owner's threshold, audited."""
        console.allow(staff.role, Permission.APPROVE)
        before = self.drafts.approval_rule()
        self.drafts.set_approval_rule(rule)
        self.audit.append(Draft(at=now, actor=Actor.of(staff), action=Action.APPROVAL_RULE, session=session.id,
                                before=before.model_dump(), after=rule.model_dump()))
        return rule

    def _over_threshold(self, made: Made, now: datetime) -> str | None:
        """Why the campaign needs the owner (its reach or its bonus's cost over the threshold), or None."""
        rule = self.drafts.approval_rule()
        if (rule.members is None and rule.points is None) or self.counter is None:
            return None
        segment = made.segment or (self.program.segments.get(made.campaign.segment) if made.campaign.segment else None)
        size = self.counter.reach(segment or _EVERYONE, made.campaign, now)
        return rule.over(size.reachable, size.cost_points)

    def _ask_owners(self, staff: StaffMember, made: Made, why: str, now: datetime) -> None:
        if self.outbox is None or self.owners is None:
            return
        text = (f"{staff.name or 'Маркетолог'} просит одобрить кампанию «{made.campaign.title or made.name}»: {why}. "
                "Откройте консоль (/console) и запустите её, если согласны.")
        for owner in self.owners():
            self.outbox.put(OutboundMessage(dedupe_key=f"approval:{made.name}:{made.version}:{owner}", chat_id=owner,
                                            text=text))

    def stop(self, session: Session, staff: StaffMember, name: str, now: datetime) -> CampaignView:
        console.allow(staff.role, Permission.CAMPAIGNS)
        everyone = self._everyone()
        before = _found(everyone, name)
        return self._kept(session, staff, everyone, before, composer.stopped(before, now), Action.CAMPAIGN_STOPPED,
                          now)

    def copy(self, session: Session, staff: StaffMember, name: str, new_name: str, now: datetime) -> CampaignView:
        console.allow(staff.role, Permission.CAMPAIGNS)
        everyone = self._everyone()
        copied = composer.edited(None, composer.copied(_found(everyone, name), new_name, now))
        return self._kept(session, staff, everyone, None, copied, Action.CAMPAIGN_COPIED, now, reason=f"копия {name}")

    def _everyone(self) -> dict[str, Made]:
        """The console's campaigns by name, read once for a change."""
        return {made.name: made for made in self.drafts.all_made()}

    def _kept(self, session: Session, staff: StaffMember, everyone: dict[str, Made], before: Made | None,
              after: Made, action: Action, now: datetime, reason: str | None = None) -> CampaignView:
        """`after` checked beside the program file's campaigns and the console's others, kept, audited."""
        others = [made for made in everyone.values()
                  if made.name != after.name and made.state not in (State.STOPPED, State.FINISHED)]
        composer.checked(self.program, [*others, after])
        self.drafts.keep(after)
        self.audit.append(Draft(at=now, actor=Actor.of(staff), action=action, session=session.id, subject=after.name,
                                before=_audited(before), after=_audited(after), reason=reason))
        return view(after)


def _found(everyone: dict[str, Made], name: str) -> Made:
    made = everyone.get(name)
    if made is None:
        raise composer.CampaignRefused(f"Кампании {name!r} нет.", status=404)
    return made


def _audited(made: Made | None) -> dict[str, Any] | None:
    """What the audit keeps of a campaign: its state and version, and what it says."""
    if made is None:
        return None
    return {"state": str(made.state), "version": made.version,
            "campaign": made.campaign.model_dump(mode="json", exclude_defaults=True),
            "segment": made.segment.model_dump(mode="json", exclude_defaults=True) if made.segment else None}
