"""The bot's sending pace on moto: however many senders share it, no second holds more sends than the rate
allows, and each takes its slot in turn (the GCRA item in the campaigns table)."""

import time

from loyalty.adapters.pacing import Pace
from tests.integration.conftest import all_at_once

RATE = 20.0
CALLS = 50


def test_four_senders_sharing_the_pace_stay_within_its_rate_in_every_second(stack):
    def sender(n):
        pace, sent = Pace("CampaignsTable", "test", RATE), []
        for _ in range(CALLS // 4 + (1 if n < CALLS % 4 else 0)):
            pace.wait()
            sent.append(time.monotonic())
        return sent

    moments = sorted(moment for sent in all_at_once(4, sender) for moment in sent)
    assert len(moments) == CALLS
    busiest = max(sum(1 for other in moments if start <= other < start + 1.0) for start in moments)
    assert busiest <= RATE + 1  # a slot every 1/RATE s: at most RATE + 1 start within any one second
    assert moments[-1] - moments[0] >= (CALLS - 1) / RATE - 0.05  # and nobody jumped the line
