"""The program's CRM rate limit on the local stack: requests to Mindbox are spaced by it, across messages and
within one (a stack of its own: the limit is the program's)."""

import itertools

import pytest

from tests.e2e.journeys import CREAM, SERUM, buy, join, seed_stack

pytestmark = pytest.mark.e2e


def test_the_program_rate_limit_spaces_the_requests():
    def slow_crm(document):
        document["crm"]["mindbox"]["requests_per_minute"] = 120  # one request every half second

    with seed_stack(slow_crm) as stack:
        ann = join(stack)
        buy(stack, ann, CREAM, SERUM)  # the receipt's three requests come from one message, back to back
        arrivals = [op["at"] for op in stack.mindbox.state()["operations"]]
    assert len(arrivals) == 5
    gaps = [later - earlier for earlier, later in itertools.pairwise(arrivals)]
    assert min(gaps) >= 0.45, gaps
