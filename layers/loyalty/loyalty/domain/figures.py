"""The program's figures for a period, from daily tallies (domain/daily.py): what the console's dashboard draws
and `loyalty report` prints, computed here once for both.

A period is a run of whole days, `since` to `until` (exclusive). Flows over the period (receipts, points given)
sum its days; stocks (members, the points owed) sum every day before its end. Each period is shown beside the
one of the same length just before it.
"""


from collections import Counter
from collections.abc import Mapping
from datetime import date, timedelta

from pydantic import BaseModel, ConfigDict

from loyalty.domain.daily import NEVER, Tally, day_number, nonzero, stocks


class Rated(BaseModel):
    """Survey answers: how many, and their scores' sum (CSAT is the share of 4 and 5)."""

    model_config = ConfigDict(defer_build=True)

    answers: int = 0
    satisfied: int = 0  # rated 4 or 5

    @property
    def csat_percent(self) -> float | None:
        return round(100 * self.satisfied / self.answers, 1) if self.answers else None


class Recommended(BaseModel):
    """Answers to "would you recommend us", 0–10: promoters gave 9–10, detractors 0–6."""

    model_config = ConfigDict(defer_build=True)

    answers: int = 0
    promoters: int = 0
    detractors: int = 0

    @property
    def nps(self) -> float | None:
        return round(100 * (self.promoters - self.detractors) / self.answers, 1) if self.answers else None


class Figures(BaseModel):
    model_config = ConfigDict(defer_build=True)

    since: date
    until: date  # the day after the period's last
    # members: stocks at the period's end, and who came during it
    members: int
    joined: dict[str, int]  # by where they came from (insert:wb, referral, organic …)
    buyers_ever: int  # members with a receipt, ever, by the period's end
    joined_ever: int
    # purchases
    receipts: dict[str, int]  # by channel
    revenue_kopecks: dict[str, int]  # the brand's goods, less refunds, by channel
    buyers: int
    repeat_buyers: int  # bought on two days of the period or more
    moved_to_site: int  # first bought on the brand's site, after a marketplace
    # points
    given: dict[str, int]  # by kind
    taken_back: int  # by refunds and rejected held purchases
    spent: dict[str, int]  # on the site, on rewards
    expired: int
    written_off: int  # accounts deleted
    owed_points: int  # at the period's end: 1 point = 1 ₽
    orders: dict[str, int]  # paid with points: on the site, rewards
    order_kopecks: dict[str, int]  # their totals
    fraud: dict[str, int]  # held, approved, rejected
    campaigns: dict[str, dict[str, int]]  # each campaign's and nudge's delivered, converted, revenue (kopecks)
    rated: dict[str, Rated]  # by channel
    rated_goods: dict[str, Rated]  # by the good rated
    recommended: dict[str, Recommended] = {}  # NPS answers by channel, where the program asks it
    # RFM groups (domain/rfm.py): their sizes at the period's start and end, and the moves between them in it
    rfm_start: dict[str, int]
    rfm_end: dict[str, int]
    rfm_moves: dict[str, int]  # "from:to" (from "-": a first purchase)
    # the profile's interests: members who chose each option, at the period's start and end ("skin_type:dry")
    interests_start: dict[str, int] = {}
    interests_end: dict[str, int] = {}

    @property
    def new_members(self) -> int:
        return sum(self.joined.values())

    @property
    def penetration_percent(self) -> float | None:
        return round(100 * self.buyers_ever / self.joined_ever, 1) if self.joined_ever else None

    @property
    def repeat_percent(self) -> float | None:
        return round(100 * self.repeat_buyers / self.buyers, 1) if self.buyers else None

    @property
    def all_receipts(self) -> int:
        return sum(self.receipts.values())

    @property
    def all_revenue_kopecks(self) -> int:
        return sum(self.revenue_kopecks.values())

    @property
    def all_given(self) -> int:
        return sum(self.given.values())

    @property
    def all_spent(self) -> int:
        return sum(self.spent.values())

    @property
    def cost_percent(self) -> float | None:
        """Points given (less those taken back) per rouble of revenue, in percent: what the program costs if every
        point is spent."""
        revenue = self.all_revenue_kopecks
        return round(100 * (self.all_given - self.taken_back) / (revenue / 100), 1) if revenue > 0 else None


def figures(days: Mapping[date, Tally], since: date, until: date) -> Figures:
    """The figures of [since, until), from every day's tally up to `until` (earlier days make the stocks)."""
    period: Tally = Counter()
    before: Tally = Counter()
    for day, tally in days.items():
        if day < until:
            (period if day >= since else before).update(tally)
    buyers, repeat = _buyers(period, day_number(since))
    ever = period + before
    return Figures(
        since=since, until=until,
        members=_sum(ever, "joined:") - ever["erased"], joined=_split(period, "joined:"),
        buyers_ever=ever["first_buy"],
        joined_ever=_sum(ever, "joined:"),
        receipts=_split(period, "receipts:"), revenue_kopecks=_split(period, "revenue:"),
        buyers=buyers, repeat_buyers=repeat, moved_to_site=period["moved"],
        given=_split(period, "given:"), taken_back=period["taken_back"], spent=_split(period, "spent:"),
        expired=period["expired"], written_off=period["written_off"], owed_points=ever["owed"],
        orders=_split(period, "orders:"), order_kopecks=_split(period, "order_kopecks:"),
        fraud=_split(period, "fraud:"), campaigns=_campaigns(period), rated=_rated(period, "rated:"),
        rated_goods=_rated(period, "rated_good:"), recommended=_recommended(period),
        rfm_start=_split(before, "rfm:"), rfm_end=_split(ever, "rfm:"), rfm_moves=_split(period, "rfm_move:"),
        interests_start=_split(before, "interest:"), interests_end=_split(ever, "interest:"),
    )


def with_earlier(days: Mapping[date, Tally], total: Tally, since: date) -> dict[date, Tally]:
    """The days read from `since` on, and the stocks of everything before them (the total, which holds only
    stocks, less those days') as one day before `since`: all a period starting on or after `since` needs."""
    earlier = stocks(total)
    for tally in days.values():
        earlier.subtract(stocks(tally))
    earlier = nonzero(earlier)
    return {**days, since - timedelta(days=1): earlier} if earlier else dict(days)


def previous(since: date, until: date) -> tuple[date, date]:
    """The period of the same length just before."""
    return since - (until - since), since


def steps(since: date, until: date) -> list[tuple[date, date]]:
    """The period cut for a chart: by day up to two months, else by week (Monday to Sunday, cut at the ends)."""
    if (until - since).days <= 62:
        return [(since + timedelta(days=i), since + timedelta(days=i + 1)) for i in range((until - since).days)]
    cuts, start = [], since
    while start < until:
        end = min(until, start + timedelta(days=7 - start.weekday()))
        cuts.append((start, end))
        start = end
    return cuts


def series(days: Mapping[date, Tally], since: date, until: date, prefix: str) -> list[tuple[date, dict[str, int]]]:
    """A flow (`receipts:`, `revenue:`) by channel for each step of the period."""
    return [(start, _split(sum((days.get(start + timedelta(days=i), Counter()) for i in range((end - start).days)),
                               Counter()), prefix)) for start, end in steps(since, until)]


def _buyers(period: Tally, first: int) -> tuple[int, int]:
    """The period's distinct buyers, and those who bought on two of its days or more (domain/daily.py)."""
    buyers = repeat = 0
    for key, count in period.items():
        if key.startswith("buyer:"):
            prev, prev2 = (_number(part) for part in key.split(":")[1:3])
            buyers += count if prev < first else 0
            repeat += count if prev >= first > prev2 else 0
    return buyers, repeat


def _number(part: str) -> int:
    return -1 if part == NEVER else int(part)


def _sum(tally: Tally, prefix: str) -> int:
    return sum(count for key, count in tally.items() if key.startswith(prefix))


def _split(tally: Tally, prefix: str) -> dict[str, int]:
    """The counts under a prefix, by what follows it, largest first (zeros left out)."""
    found = {key.removeprefix(prefix): count for key, count in tally.items() if key.startswith(prefix) and count}
    return dict(sorted(found.items(), key=lambda kv: (-kv[1], kv[0])))


def _campaigns(tally: Tally) -> dict[str, dict[str, int]]:
    found: dict[str, dict[str, int]] = {}
    for key, count in _split(tally, "campaign:").items():
        name, _, what = key.rpartition(":")
        found.setdefault(name, {"delivered": 0, "converted": 0, "revenue": 0})[what] = count
    return dict(sorted(found.items(), key=lambda kv: (-kv[1]["delivered"], kv[0])))


def _recommended(tally: Tally) -> dict[str, Recommended]:
    found: dict[str, Recommended] = {}
    for key, count in _split(tally, "nps:").items():
        channel, _, score = key.rpartition(":")
        answers = found.setdefault(channel, Recommended())
        answers.answers += count
        answers.promoters += count if int(score) >= 9 else 0
        answers.detractors += count if int(score) <= 6 else 0
    return dict(sorted(found.items(), key=lambda kv: -kv[1].answers))


def _rated(tally: Tally, prefix: str) -> dict[str, Rated]:
    """`rated:<channel>:<score>` counts as answers by channel."""
    found: dict[str, Rated] = {}
    for key, count in _split(tally, prefix).items():
        about, _, score = key.rpartition(":")
        rated = found.setdefault(about, Rated())
        rated.answers += count
        rated.satisfied += count if score in ("4", "5") else 0
    return dict(sorted(found.items(), key=lambda kv: -kv[1].answers))

