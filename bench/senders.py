"""A campaign sender in its own interpreter, for `make bench` (multiprocessing finds it by module name)."""

from __future__ import annotations

import time
from typing import Any


def campaign_sender(settings: dict[str, object], work: Any, ready: Any) -> None:
    """One campaign sender, as one Lambda container runs it, taking messages until there are none."""
    import queue

    from loyalty.contracts import CampaignMessage
    from loyalty.flows.outcomes import RetryLater
    from loyalty.observability import metrics
    from loyalty.settings import CampaignSenderSettings
    from loyalty.wiring.campaign_sender import campaign_sender

    sender = campaign_sender(CampaignSenderSettings.model_validate(settings))
    ready.wait()
    while True:
        try:
            message = CampaignMessage.model_validate_json(work.get(timeout=1))
        except queue.Empty:
            return
        try:
            sender.send_once(message=message)
        except RetryLater as error:  # a 429 (the emulator counts it): SQS would bring the message back
            time.sleep(error.delay_seconds or 1)
            work.put(message.model_dump_json())
        metrics.clear_metrics()  # what each invocation's log_metrics does
