"""The program's defences against points taken dishonestly (the program file's `fraud:`), as pure rules.

- **Submissions**: how many receipts (a QR code, a photo, a file) one member may send a minute and a day. Checked
  in the webhook before anything is queued, so nobody makes the bot pay the receipt service for invented codes.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from loyalty.domain.receipt import MOSCOW


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Submissions(_Strict):
    per_minute: int = Field(default=5, ge=1, description="receipts one member may send in a minute")
    per_day: int = Field(default=30, ge=1, description="receipts one member may send in a Moscow day")


class Fraud(_Strict):
    submissions: Submissions = Submissions()


class Window(StrEnum):
    MINUTE = "minute"
    DAY = "day"


def windows(now: datetime) -> dict[Window, str]:
    """The minute and the Moscow day a submission at `now` counts in."""
    local = now.astimezone(MOSCOW)
    return {Window.MINUTE: local.strftime("%Y%m%d%H%M"), Window.DAY: local.strftime("%Y%m%d")}


def retry_after(window: Window, now: datetime) -> timedelta:
    """How long until the window that is full gives way to the next: the next minute, or Moscow midnight."""
    local = now.astimezone(MOSCOW)
    if window == Window.MINUTE:
        return timedelta(seconds=60 - local.second)
    midnight = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight - local
