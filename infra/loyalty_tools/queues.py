"""Where the operator's commands find the stack's queues: as given (an option or the environment, from the stack's
outputs), else the local stack's queue of that name (its queues are named after their logical ids)."""

from __future__ import annotations

from loyalty.adapters.aws import client


def queue_url(given: str | None, local_name: str) -> str:
    return given or client("sqs").get_queue_url(QueueName=local_name)["QueueUrl"]


CRM_QUEUE = "CrmQueue.fifo"
