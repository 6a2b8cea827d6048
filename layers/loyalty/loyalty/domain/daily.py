"""What one day adds to the program's figures: a tally of counters, summed over any run of days.

Every figure the dashboard and `loyalty report` show is read from these tallies (domain/figures.py), so each one
must add up over days exactly. Counts of distinct members over a period do not add up by themselves; they are
made to by keying a member's first purchase of a day on the days they bought before (`buyer:<prev>:<prev2>`):

- the period's buyers are the buyer-days whose previous purchase day falls before the period (or who never bought);
- the ones who bought on two days of the period are the buyer-days whose previous day is in the period and whose
  day before that is not (each such member has exactly one);
- a member's first purchase ever is a buyer-day with no previous day, which the penetration counts.

A day is a calendar day in Moscow, the brand's reporting time. Keys are `what:detail` strings, short because each
is an attribute of the day's item.
"""


from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

from loyalty.domain import rfm
from loyalty.domain.ledger import Entry, Kind, bonus_of, campaign_of
from loyalty.domain.receipt import MOSCOW
from loyalty.domain.segments import source_of

if TYPE_CHECKING:
    from loyalty.domain.program import Program

Tally = Counter[str]
EPOCH = date(2020, 1, 1)  # days are numbered from it in the buyer keys: short, and they sort as numbers
NEVER = "-"  # no previous purchase day

# One transaction holds at most 100 items: the tallies written at once touch at most this many days
DAYS_PER_WRITE = 90
# The kinds of points given, as the report names them
GIVEN_KINDS = ("purchases", "challenges", "draw", "birthday", "welcome", "referral", "review", "campaigns",
               "adjustments", "imported", "other")


def day_of(moment: datetime) -> date:
    return moment.astimezone(MOSCOW).date()


def day_number(day: date) -> int:
    return (day - EPOCH).days


class Past(BaseModel):
    """What a member's purchases so far tell the figures of their next one: the last two days they bought on, the
    kinds of channel they bought in, and their purchases of the last year (day, kopecks; RFM needs no older). The
    stream keeps one per member (FiguresTable); a scan folds the same, purchase by purchase."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    last_days: tuple[date, ...] = ()  # latest first, at most two
    kinds: tuple[str, ...] = ()  # marketplace, retail, d2c, other: each kind bought in, ever
    purchases: tuple[tuple[date, int], ...] = ()

    def after(self, program: "Program", entry: Entry) -> "Past":
        """With this purchase (the latest) added."""
        day = day_of(entry.created_at)
        kept = tuple(p for p in self.purchases if p[0] > day - timedelta(days=rfm.YEAR_DAYS + 1))
        return Past(last_days=tuple(sorted({day, *self.last_days}, reverse=True))[:2],
                    kinds=tuple(sorted({*self.kinds, program.channel_kind(entry.details.channel or "other")})),
                    purchases=(*kept, (day, entry.details.brand_sum_kopecks)))


NO_PAST = Past.model_construct()  # constructed, not validated: importing the figures builds no validator


def entry_days(program: "Program", entry: Entry, past: Past | None = None) -> dict[date, Tally]:
    """What a ledger entry adds, by day: to its own day, and a purchase to the days its member's RFM group will
    change on (domain/rfm.py). `past` is what the member's purchases before this entry tell."""
    past = past or NO_PAST
    days = {day_of(entry.created_at): entry_tally(program, entry, past)}
    if entry.kind == Kind.ACCRUAL:
        before = list(past.purchases)
        for day, tally in rfm.tally(before, [*before, (day_of(entry.created_at), entry.details.brand_sum_kopecks)]
                                    ).items():
            fold(days, day, tally)
    return {day: tally for day, tally in days.items() if tally}


def entry_tally(program: "Program", entry: Entry, past: Past | None = None) -> Tally:
    """What a ledger entry adds to its own day. A purchase needs what the member's earlier ones tell (`past`):
    whether it is their first of the day, and which days they bought on before."""
    tally: Tally = Counter()
    wallet = entry.change.available + entry.change.pending + entry.change.held
    if wallet:
        tally["owed"] += wallet  # the liability moves by what the member's points move
    if entry.kind == Kind.ACCRUAL:
        tally.update(_purchase(program, entry, past or NO_PAST))
    else:
        tally.update(_other(entry))
    if entry.kind == Kind.HELD_DECISION:
        tally["fraud:approved" if entry.details.approved else "fraud:rejected"] += 1
    return nonzero(tally)


def _purchase(program: "Program", entry: Entry, past: Past) -> Tally:
    details, channel = entry.details, entry.details.channel or "other"
    tally: Tally = Counter({f"receipts:{channel}": 1, f"revenue:{channel}": details.brand_sum_kopecks,
                            "given:purchases": entry.points - details.challenge_points,
                            "given:challenges": details.challenge_points, "fraud:held": 1 if details.held_by else 0})
    tally.update(_buyer(program, entry, past))
    return tally


def _other(entry: Entry) -> Tally:
    """What an entry other than a purchase adds to its day (besides the points owed)."""
    details, kind = entry.details, entry.kind
    # a review's bonus or a held purchase's approval may complete a challenge: its points are counted as such
    tally: Tally = Counter({"given:challenges": details.challenge_points})
    if kind == Kind.REFUND or (kind == Kind.HELD_DECISION and details.approved is False):
        tally[f"revenue:{details.channel or 'other'}"] -= details.brand_sum_kopecks
        tally["taken_back"] -= entry.points
    elif kind in (Kind.BONUS, Kind.BOOST, Kind.WITHDRAWAL):
        given = "campaigns" if campaign_of(entry.entry_id) else bonus_of(entry.entry_id) or "other"
        tally[f"given:{given if given in GIVEN_KINDS else 'other'}"] += entry.points - details.challenge_points
    elif kind == Kind.ADJUSTMENT:
        tally["given:adjustments"] += entry.points
    elif kind == Kind.OPENING:
        tally["given:imported"] += entry.points
    elif kind == Kind.COMMIT:
        where = "rewards" if details.reward else "site"
        tally[f"spent:{where}"] += details.spent
        tally[f"orders:{where}"] += 1
        # A reward is paid in points only (1 point = 1 ₽); the site tells its order's total when it commits
        tally[f"order_kopecks:{where}"] += details.spent * 100 if details.reward else details.order_kopecks
    elif kind == Kind.EXPIRY:
        tally["expired"] -= entry.points
    elif kind == Kind.FORFEIT:
        tally["written_off"] -= entry.points
    elif kind == Kind.HELD_LATER:
        tally["fraud:held"] += 1
    return tally


def stocks(tally: Tally) -> Tally:
    """The counts a stock is summed from (members, first buyers, points owed, RFM groups): all a period needs of
    the days before it. The buyer keys (one per pair of earlier days) are only ever read within a period, and
    would make a running total too large for one item."""
    return Counter({key: count for key, count in tally.items()
                    if count and (key in _STOCKS or key.startswith(("joined:", "rfm:", "interest:")))})


_STOCKS = frozenset({"erased", "first_buy", "owed"})


def nonzero(tally: Tally) -> Tally:
    """Only the zeros go (`+tally` would drop the negative counts a tally of changes has)."""
    return Counter({key: value for key, value in tally.items() if value})


def _buyer(program: "Program", entry: Entry, past: Past) -> Tally:
    tally: Tally = Counter()
    if day_of(entry.created_at) not in past.last_days:  # the member's first purchase of the day
        prev, prev2 = (str(day_number(past.last_days[i])) if len(past.last_days) > i else NEVER for i in (0, 1))
        tally[f"buyer:{prev}:{prev2}"] += 1
        tally["first_buy"] += 1 if prev == NEVER else 0
    if program.channel_kind(entry.details.channel or "other") == "d2c" and "d2c" not in past.kinds \
            and "marketplace" in past.kinds:
        tally["moved"] += 1  # the member's first purchase on the brand's site, after a marketplace
    return tally


def order(entry: Entry) -> tuple[datetime, str]:
    """The order a member's entries were written in (a repeated stamp is broken by the entry's id)."""
    return entry.created_at, entry.entry_id


def member_tally(item: Mapping[str, Any] | None) -> dict[date, Tally]:
    """What a member item counts, by day: joining (by source) and erasure. A change to the item counts the
    difference between its tallies after and before (`changed`)."""
    if not item or not item.get("joined_at"):
        return {}
    found: dict[date, Tally] = {}
    joined = _parse(item["joined_at"])
    if joined is not None:
        found.setdefault(day_of(joined), Counter())[f"joined:{source_of(item)}"] += 1
    erased = _parse(item.get("erased_at"))
    if erased is not None:
        found.setdefault(day_of(erased), Counter())["erased"] += 1
    if joined is not None and item.get("interests"):  # a stock, counted from the day they joined: a change moves it
        found.setdefault(day_of(joined), Counter()).update(
            f"interest:{interest}:{option}" for interest, options in item["interests"].items() for option in options)
    return found


def touch_tally(item: Mapping[str, Any] | None) -> dict[date, Tally]:
    """What a campaign's or nudge's touch (its record in the campaigns table) counts, by day: delivered, and
    converted with the purchase's revenue."""
    if not item or not str(item.get("key", "")).startswith("touch#"):
        return {}
    found: dict[date, Tally] = {}
    name = item.get("campaign")
    delivered, converted = _parse(item.get("delivered_at")), _parse(item.get("converted_at"))
    if delivered is not None and item.get("status") == "delivered":
        found.setdefault(day_of(delivered), Counter())[f"campaign:{name}:delivered"] += 1
    if converted is not None:
        counts = found.setdefault(day_of(converted), Counter())
        counts[f"campaign:{name}:converted"] += 1
        counts[f"campaign:{name}:revenue"] += int(item.get("revenue_kopecks") or 0)
    return found


def rating_tally(item: Mapping[str, Any] | None) -> dict[date, Tally]:
    """A survey's answer (a letter's rating), on the day it was given: by the channel bought in and by each
    of the brand's goods the survey asked about."""
    rated = _parse(item.get("rated_at")) if item else None
    if item is None or rated is None or item.get("rating") is None:
        return {}
    score, channel = int(item["rating"]), item.get("channel") or "other"
    counts: Tally = Counter({f"rated:{channel}:{score}": 1})
    counts.update(f"rated_good:{good}:{score}" for good in dict.fromkeys(item.get("goods") or ()))
    found = {day_of(rated): counts}
    recommended = _parse(item.get("nps_at"))
    if recommended is not None and item.get("nps") is not None:  # NPS, where the program asks it
        fold(found, day_of(recommended), Counter({f"nps:{channel}:{int(item['nps'])}": 1}))
    return found


def changed(before: Mapping[date, Tally], after: Mapping[date, Tally]) -> dict[date, Tally]:
    """after − before, day by day, keeping negative counts and dropping what did not change."""
    days: dict[date, Tally] = {}
    for day in set(before) | set(after):
        difference = Counter(after.get(day, Counter()))
        difference.subtract(before.get(day, Counter()))
        difference = nonzero(difference)
        if difference:
            days[day] = difference
    return days


def fold(into: dict[date, Tally], day: date, tally: Tally) -> None:
    if tally:
        into.setdefault(day, Counter()).update(tally)


def _parse(stamp: Any) -> datetime | None:
    if not stamp:
        return None
    try:
        parsed = datetime.fromisoformat(str(stamp))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=MOSCOW)


class Books:
    """The daily tallies of a whole ledger and members table, read by a scan in any order (the backfill, and
    `loyalty report --scan`): an entry other than a purchase is tallied as it comes; purchases wait until every
    entry is read, since each needs its member's purchases before it."""

    def __init__(self, program: "Program"):
        self.program = program
        self.days: dict[date, Tally] = {}
        self.pasts: dict[str, Past] = {}
        self._purchases: dict[str, list[Entry]] = {}

    def member(self, item: Mapping[str, Any]) -> None:
        self._fold(member_tally(item))

    def touch(self, item: Mapping[str, Any]) -> None:
        """A campaigns table item (its touches count; the rest nothing)."""
        self._fold(touch_tally(item))

    def letter(self, item: Mapping[str, Any]) -> None:
        """A bot table item (a rated letter counts; the rest nothing)."""
        self._fold(rating_tally(item))

    def _fold(self, days: Mapping[date, Tally]) -> None:
        for day, tally in days.items():
            fold(self.days, day, tally)

    def entries(self, entries: Iterable[Entry]) -> None:
        for entry in entries:
            if entry.kind == Kind.ACCRUAL:
                self._purchases.setdefault(entry.member_id, []).append(entry)
            else:
                fold(self.days, day_of(entry.created_at), entry_tally(self.program, entry))
                if entry.kind == Kind.FORFEIT:  # the account was deleted: whoever comes back starts afresh
                    self._purchases.setdefault(entry.member_id, []).append(entry)

    def tallies(self) -> dict[date, Tally]:
        """Every day's tally; and `pasts`, each member's Past after their last purchase."""
        for member_id, purchases in self._purchases.items():
            past: Past | None = None
            for entry in sorted(purchases, key=order):
                if entry.kind == Kind.FORFEIT:
                    past = None
                    continue
                self._fold(entry_days(self.program, entry, past))
                past = (past or NO_PAST).after(self.program, entry)
            if past is not None:
                self.pasts[member_id] = past
        self._purchases = {}
        # moves a later purchase called off leave zeros: what is left is what the stream's figures read back
        self.days = {day: kept for day, tally in self.days.items() if (kept := nonzero(tally))}
        return self.days
