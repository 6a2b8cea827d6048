"""OutboxQueue consumer: deliver each queued message to Telegram once, each chat's in order."""

from typing import Any

import loyalty.startup  # first: no garbage collected while the modules load

from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from loyalty.adapters.consumers import FifoQueueConsumer
from loyalty.deadline import invocation_deadline
from loyalty.observability import logger, metrics
from loyalty.settings import TelegramSenderSettings, environment
from loyalty.wiring import outbox as wiring

settings = environment(TelegramSenderSettings)
sender = wiring.telegram_sender(settings)
consumer = FifoQueueConsumer(settings.DEAD_LETTER_QUEUE_URL, settings.RETRY_BASE_SECONDS, settings.MAX_RETRY_SECONDS)


@logger.inject_lambda_context
@metrics.log_metrics
@invocation_deadline
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=sender.handle_record, processor=consumer,
                                    context=context)


loyalty.startup.ready()  # loaded: what it made is kept out of every later collection
