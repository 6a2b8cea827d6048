"""DynamoDB Streams of the ledger, members, campaigns and bot tables: the daily figures the console's dashboard
and `loyalty report` read (flows/figures.py)."""

from typing import Any

import loyalty.startup  # first: no garbage collected while the modules load

from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from loyalty.adapters.streams import changes
from loyalty.observability import logger, metrics
from loyalty.settings import FiguresSettings, environment
from loyalty.wiring import figures as wiring

settings = environment(FiguresSettings)
keeper = wiring.figures(settings)


@logger.inject_lambda_context
@metrics.log_metrics
@event_source(data_class=DynamoDBStreamEvent)
def lambda_handler(event: DynamoDBStreamEvent, context: LambdaContext) -> dict[str, Any]:
    return {"counted": keeper.keep_all(changes(event, settings.streams()))}


loyalty.startup.ready()  # loaded: what it made is kept out of every later collection
