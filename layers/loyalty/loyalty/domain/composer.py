"""Campaigns made in the console: the same `Campaign` (and `Segment`) the program file holds, with a state, checked
by the same rules with the same messages. The program file's campaigns stay as the reviewed defaults; both run
through the same code. Pure: no I/O.

States: draft → scheduled → running → finished | stopped.
- **draft**: being written, saved as often as the marketer likes;
- **scheduled**: launched, to go out at its moment (a broadcast's `at`);
- **running**: going out (a broadcast) or live (a win-back ladder, an offer on entering a segment);
- **finished**: a broadcast that went out to everyone it was for: its run is done and every message it queued is
  settled (delivered, bounced, held out, dropped or stopped). It is read so from the campaign's figures, not written:
  the campaigns run keeps no hand in the console's table;
- **stopped**: stopped by the staff, for good: a copy sends it again.

A draft or a scheduled campaign may be edited; a running one may not (stop it, or copy it).
"""


from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from loyalty.domain.campaigns import Campaign
from loyalty.domain.console import ChangeRefused
from loyalty.domain.program import Program
from loyalty.domain.segments import Segment
from loyalty.validation import problems


class State(StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    RUNNING = "running"
    FINISHED = "finished"
    STOPPED = "stopped"


STATE_WORDS = {State.DRAFT: "черновик", State.SCHEDULED: "запланирована", State.RUNNING: "идёт",
               State.FINISHED: "завершена", State.STOPPED: "остановлена"}
EDITABLE = frozenset({State.DRAFT, State.SCHEDULED})
LIVE = frozenset({State.SCHEDULED, State.RUNNING})  # what the campaigns run reads


class CampaignRefused(ChangeRefused):
    """A campaign change the console cannot make: by default a conflict (409) with its state or another window's."""

    def __init__(self, reason: str, status: int = 409):
        super().__init__(reason, status)


class ApprovalRule(BaseModel):
    """The owner's threshold: a campaign that reaches more members, or whose bonus could cost more points, than this
    is launched by the owner (a marketer's launch asks for it). None: no threshold of that kind."""

    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True)

    members: int | None = Field(default=None, ge=1)
    points: int | None = Field(default=None, ge=1)

    def over(self, members: int, points: int) -> str | None:
        """Why a campaign of this size needs the owner, in words; None when it does not."""
        reasons = []
        if self.members is not None and members > self.members:
            reasons.append(f"{members} участников (порог — {self.members})")
        if self.points is not None and points > self.points:
            reasons.append(f"до {points} баллов бонуса (порог — {self.points})")
        return " и ".join(reasons) or None


class Made(BaseModel):
    """A campaign made in the console, with the segment built for it there (if any) and its state. `version` grows
    with each change: a change made from a stale page is refused rather than lost."""

    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True)

    campaign: Campaign
    segment: Segment | None = Field(default=None, description="a segment built in the composer, named after the "
                                    "campaign; else the campaign names one of the program's")
    state: State = State.DRAFT
    version: int = Field(default=0, ge=0)
    changed_at: datetime | None = None
    approval_asked: str | None = Field(default=None, description="a launch over the owner's threshold, waiting "
                                       "for the owner: why, in words (asked by whom is in the audit)")

    @property
    def name(self) -> str:
        return self.campaign.name


def drafted(document: dict[str, Any], segment: dict[str, Any] | None, now: datetime) -> Made:
    """A campaign as the composer sent it, read by the program file's model (its messages say what is wrong)."""
    if segment is not None:  # the segment built for it goes by the campaign's name
        document = {**document, "segment": document.get("name")}
    try:
        campaign = Campaign.model_validate(document)
        built = Segment.model_validate(segment) if segment is not None else None
    except ValidationError as error:
        raise CampaignRefused(problems(error, "campaign"), status=422) from error
    return Made(campaign=campaign, segment=built, changed_at=now)


def edited(before: Made | None, after: Made) -> Made:
    """`after` saved over `before` (None: a new campaign), keeping its state."""
    if before is None:
        return after.model_copy(update={"state": State.DRAFT, "version": 1})
    if before.state not in EDITABLE:
        raise CampaignRefused(f"Кампания «{before.campaign.title or before.name}» {STATE_WORDS[before.state]}: "
                              "её нельзя изменить. Остановите её или сделайте копию.")
    return after.model_copy(update={"state": before.state, "version": before.version + 1})  # asks again if over


def launched(made: Made, now: datetime) -> Made:
    """A draft launched: a broadcast waits for its moment, anything else runs from the next run on."""
    if made.state != State.DRAFT:
        raise CampaignRefused(f"Запустить можно только черновик, а эта кампания {STATE_WORDS[made.state]}.")
    waits = made.campaign.kind == "broadcast" and made.campaign.at is not None and made.campaign.at > now
    return _moved(made, State.SCHEDULED if waits else State.RUNNING, now).model_copy(update={"approval_asked": None})


def asked(made: Made, why: str, now: datetime) -> Made:
    """A draft whose launch waits for the owner's approval (it stays a draft: the owner launches it)."""
    if made.state != State.DRAFT:
        raise CampaignRefused(f"Запустить можно только черновик, а эта кампания {STATE_WORDS[made.state]}.")
    return made.model_copy(update={"approval_asked": why, "version": made.version + 1, "changed_at": now})


def stopped(made: Made, now: datetime) -> Made:
    if made.state not in LIVE:
        raise CampaignRefused(f"Остановить можно идущую или запланированную кампанию, а эта {STATE_WORDS[made.state]}.")
    return _moved(made, State.STOPPED, now)


def copied(made: Made, name: str, now: datetime) -> Made:
    """A new draft with everything `made` says, under another name (a stopped or running campaign sent again)."""
    document = {**made.campaign.model_dump(mode="json"), "name": name}
    return drafted(document, made.segment.model_dump(mode="json") if made.segment else None, now)


def checked(program: Program, made: list[Made]) -> Program:
    """The program with these console-made campaigns and segments, checked as the program file is, with the same
    messages (a name the file uses already, a segment that does not exist, a channel it does not know)."""
    document = program.model_dump(mode="json", exclude_defaults=True)
    document["campaigns"] = [*document.get("campaigns", []), *(m.campaign.model_dump(mode="json") for m in made)]
    document["segments"] = {**document.get("segments", {}),
                            **{m.name: m.segment.model_dump(mode="json") for m in made if m.segment is not None}}
    try:
        return Program.model_validate(document)
    except ValidationError as error:
        raise CampaignRefused(problems(error, "(root)"), status=422) from error


def live(program: Program, made: list[Made]) -> Program:
    """The program the campaigns run runs: the file's campaigns and the console's scheduled and running ones. A
    console campaign the program no longer admits (its segment gone from the file since) is left out, not run."""
    running = [m for m in made if m.state in LIVE and m.name not in {c.name for c in program.campaigns}]
    segments = {**program.segments, **{m.name: m.segment for m in running if m.segment is not None}}
    runnable = [m.campaign for m in running if m.campaign.segment is None or m.campaign.segment in segments]
    return program.model_copy(update={"campaigns": [*program.campaigns, *runnable], "segments": segments})


# A touch's end, as the campaign's counters count it.
SETTLED = ("delivered", "blocked", "held_out", "dropped", "stopped", "skipped")


def finished(made: Made, cursor: datetime | None, figures: dict[str, int]) -> bool:
    """Whether a running broadcast is done: its run went past its moment and each message it queued has settled."""
    at = made.campaign.at
    return (made.state == State.RUNNING and at is not None and cursor is not None and cursor >= at
            and sum(figures.get(name, 0) for name in SETTLED) >= figures.get("audience", 0))


def _moved(made: Made, state: State, now: datetime) -> Made:
    return made.model_copy(update={"state": state, "version": made.version + 1, "changed_at": now})
