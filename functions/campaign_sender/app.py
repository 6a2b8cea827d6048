"""CampaignQueue consumer: deliver campaign messages at the campaigns' pace."""

from typing import Any

import loyalty.startup  # first: no garbage collected while the modules load

from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from loyalty.adapters.consumers import QueueConsumer
from loyalty.deadline import invocation_deadline
from loyalty.observability import logger, metrics
from loyalty.settings import CampaignSenderSettings, environment
from loyalty.wiring import campaign_sender as wiring

settings = environment(CampaignSenderSettings)
sender = wiring.campaign_sender(settings)
consumer = QueueConsumer(settings.DEAD_LETTER_QUEUE_URL, settings.RETRY_BASE_SECONDS)


@logger.inject_lambda_context
@metrics.log_metrics
@invocation_deadline  # the pace's wait gives up (retryably) before the function's timeout
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    sender.idempotency.register_lambda_context(context)
    return process_partial_response(event=event, record_handler=sender.handle_record, processor=consumer,
                                    context=context)


loyalty.startup.ready()  # loaded: what it made is kept out of every later collection
