"""AccrualQueue consumer: check each submitted receipt and credit it; carry out every other ledger command."""

from typing import Any

import loyalty.startup  # first: no garbage collected while the modules load

from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from loyalty.adapters.consumers import QueueConsumer
from loyalty.deadline import invocation_deadline
from loyalty.observability import logger, metrics
from loyalty.settings import PointAccrualSettings, environment
from loyalty.wiring import accrual as wiring

settings = environment(PointAccrualSettings)
accrual = wiring.point_accrual(settings)
consumer = QueueConsumer(settings.DEAD_LETTER_QUEUE_URL, settings.RETRY_BASE_SECONDS)


@logger.inject_lambda_context
@metrics.log_metrics
@invocation_deadline  # retry loops give up (retryably) before the function's timeout
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=accrual().handle_record, processor=consumer,
                                    context=context)


loyalty.startup.ready()  # loaded: what it made is kept out of every later collection
