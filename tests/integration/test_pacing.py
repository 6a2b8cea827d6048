"""The bot's sending pace on moto: however many senders share it, and however late they wake, no second holds more
sends than the rate allows, and each takes its slot in turn (the GCRA item in the campaigns table).

Each moment is the one the pace let its call go, read on its own clock: what the rate is about, and no measure of
how fast this machine happens to schedule a thread after that."""

import itertools
import time
from collections.abc import Callable

import pytest

from loyalty.adapters.pacing import Pace
from loyalty_tools.local.stack import LocalStack
from tests.integration.conftest import all_at_once

RATE = 20.0
CALLS = 50


def busiest_second(moments: list[float]) -> int:
    return max(sum(1 for other in moments if start <= other < start + 1.0) for start in moments)


def share(calls: int, senders: int, pace_of: Callable[[int], Pace]) -> list[float]:
    def sender(n: int) -> list[float]:
        pace = pace_of(n)
        return [pace.wait() for _ in range(calls // senders + (1 if n < calls % senders else 0))]

    return sorted(moment for sent in all_at_once(senders, sender) for moment in sent)


def test_four_senders_sharing_the_pace_stay_within_its_rate_in_every_second(stack: LocalStack) -> None:
    moments = share(CALLS, 4, lambda n: Pace("CampaignsTable", "test", RATE))
    assert len(moments) == CALLS
    assert busiest_second(moments) <= RATE + 1  # a slot every 1/RATE s: at most RATE + 1 start within any one second
    assert moments[-1] - moments[0] >= (CALLS - 1) / RATE - 0.05  # and nobody jumped the line


def test_senders_that_wake_late_take_a_later_slot_instead_of_sending_a_burst(stack: LocalStack) -> None:
    """Every other sleep overruns by 0.3 s (six slots), as on a machine whose cores are busy: a sender that went at
    its stale slot would crowd the six after it into one moment."""
    def oversleeping(n: int) -> Pace:
        naps = iter(range(1_000_000))
        return Pace("CampaignsTable", "late", RATE,
                    sleep=lambda seconds: time.sleep(seconds + (0.3 if next(naps) % 2 == 0 else 0)))

    moments = share(30, 3, oversleeping)
    assert len(moments) == 30
    assert busiest_second(moments) <= RATE + 1
    gaps = [later - earlier for earlier, later in itertools.pairwise(moments)]
    assert min(gaps) >= 1 / RATE - Pace("CampaignsTable", "late", RATE).tolerance  # never two in one slot's time


def test_a_sender_late_for_its_slot_goes_at_a_new_one(stack: LocalStack) -> None:
    """A single sender paused past its slot: it does not go at the stale slot, and the pace it keeps afterwards is
    still one call an interval."""
    clock = {"now": 1_000.0}
    pace = Pace("CampaignsTable", "paused", 10.0, now=lambda: clock["now"],
                sleep=lambda seconds: clock.update(now=clock["now"] + seconds))
    assert pace.wait() == 1_000.0  # the bucket was empty: it goes at once
    late = {"by": 0.5}

    def pausing(seconds: float) -> None:  # the container is paused in its sleep: it wakes 0.5 s past its slot, once
        clock["now"] += seconds + late.pop("by", 0.0)

    pace.sleep = pausing
    went = pace.wait()
    # Not at 1000.1 + 0.5, its stale slot's moment: at a new slot, 1000.6.
    assert went == pytest.approx(1_000.6)
    assert pace.wait() == pytest.approx(1_000.7)
