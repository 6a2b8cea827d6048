"""The webhook's edge (flows/edge.py), and the full bot behind it, loaded on the first update that is not a QR code.

Its settings are read without pydantic, which would cost the edge a third of `import boto3` at its cold start. They
are four, and a missing one still fails the cold start, naming it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from loyalty.adapters.aws import client
from loyalty.adapters.brand_texts import BrandTexts
from loyalty.adapters.secrets import secret
from loyalty.flows.edge import Edge

if TYPE_CHECKING:
    from loyalty.flows.webhook import Webhook
    from loyalty.wiring.live import Live


@dataclass(frozen=True)
class EdgeSettings:
    ACCRUAL_QUEUE_URL: str
    WEBHOOK_SECRET_NAME: str
    PROGRAM_FILE: str
    CONSOLE_TABLE: str  # "": no console deployed

    @classmethod
    def from_environment(cls) -> EdgeSettings:
        optional = {"CONSOLE_TABLE"}
        missing = [field.name for field in fields(cls) if field.name not in os.environ and field.name not in optional]
        if missing:
            raise RuntimeError(f"environment variables missing: {', '.join(missing)}")
        return cls(**{field.name: os.environ.get(field.name, "") for field in fields(cls)})


def edge(settings: EdgeSettings, on_bot: Callable[[Webhook], None]) -> Edge:
    """The edge, and the full bot behind it; `on_bot` is given the full bot before each update it handles (the
    handler registers the invocation's context with its idempotency)."""
    def forward(work: dict[str, Any]) -> None:
        client("sqs").send_message(QueueUrl=settings.ACCRUAL_QUEUE_URL,
                                   MessageBody=json.dumps(work, ensure_ascii=False))

    return Edge(lambda: secret(settings.WEBHOOK_SECRET_NAME), forward,
                BrandTexts(settings.PROGRAM_FILE, settings.CONSOLE_TABLE), FullBot(on_bot))


class FullBot:
    """The full bot, built on the first update the edge hands on, once per container (Live: the program as the
    console changed it)."""

    def __init__(self, on_bot: Callable[[Webhook], None]):
        self.on_bot = on_bot
        self._live: Live[Webhook] | None = None

    def __call__(self) -> Webhook:
        if self._live is None:  # imported here, not at the cold start: pydantic, python-telegram-bot, the program
            from loyalty.settings import WebhookSettings, environment
            from loyalty.wiring.webhook import webhook

            self._live = webhook(environment(WebhookSettings))
        bot = self._live()
        self.on_bot(bot)
        return bot
