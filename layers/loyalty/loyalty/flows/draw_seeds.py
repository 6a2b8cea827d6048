"""The prize draw's seeds made ahead: apart from the draw itself, so the points schedule that publishes them every run
imports only this (flows/draw.py plays the draw)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from loyalty.domain.daily import day_of

if TYPE_CHECKING:
    from loyalty.flows.ports import DrawStore


def publish(store: DrawStore, now: datetime) -> None:
    """Today's and tomorrow's seeds are made (their hashes published) ahead of any spin on them: the points schedule
    calls it every run, so a day's hash is out the day before."""
    today = day_of(now)
    store.seed(today, now)
    store.seed(today + timedelta(days=1), now)
