"""Messages per member per week (`make bench SECTIONS=letters`): 1,000 generated members through the simulated month
of tests/simulation.py, with the shipped contact policy and, as the baseline measured in the same run, without it
(every letter sent the moment it falls due). The policy's figures are read against the baseline's."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from tests.simulation import Month

MEMBERS = 1000


def letters_figures() -> dict[str, Any]:
    with_policy, seconds = _lived(policy=True)
    baseline, baseline_seconds = _lived(policy=False)
    figures = {"with_policy": _figures(with_policy, with_policy), "without_policy": _figures(baseline, with_policy)}
    return {
        "members": MEMBERS, "weeks": 4, **figures,
        "marketing_busiest_week_ratio_to_without_policy": round(
            figures["with_policy"]["marketing_busiest_week"] / max(figures["without_policy"]["marketing_busiest_week"],
                                                                   1), 2),
        "simulated_month_seconds": round(seconds, 1),
        "seconds_ratio_to_without_policy": round(seconds / baseline_seconds, 2),
        "note": "letters_per_member_week: how many member-weeks had that many letters (all: notices, reminders, "
                "campaigns, onboarding, nudges, surveys; marketing: what the caps count). Direct answers to a "
                "receipt are not letters and are not counted",
    }


def _lived(policy: bool) -> tuple[Month, float]:
    started = time.perf_counter()
    month = Month(members=MEMBERS, policy=policy).live()
    return month, time.perf_counter() - started


def _figures(month: Month, judged_by: Month) -> dict[str, Any]:
    """`month`'s letters, judged by the shipped policy (`judged_by`'s program): at night, too close, over the caps."""
    weeks = month.per_week()
    policy = judged_by.program.contact
    delivered = month.delivered()
    night = sum(policy.quiet_hours.quiet(one.at.astimezone(judged_by.zone(one.member_id)).time())
                for one in delivered)
    return {
        "letters": len(delivered), "at_night": night, "held": month.runs["held"], "merged": month.runs["merged"],
        "dropped": month.runs["dropped"], "skipped": month.runs["skipped"],
        "letters_per_member_week": {which: _sorted(counts) for which, counts in weeks.items()},
        "marketing_busiest_week": max(weeks["marketing"]), "all_busiest_week": max(weeks["all"]),
    }


def _sorted(counts: Counter[int]) -> dict[str, int]:
    return {str(count): counts[count] for count in sorted(counts)}
