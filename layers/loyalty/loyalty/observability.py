"""The Powertools Logger and Metrics every function shares (service name from the environment).

Tracing is Lambda's own (`Tracing: Active` in template.yaml): each invocation is a trace segment with its
initialisation and duration, at no cost to a cold start. Powertools' Tracer would add a subsegment per AWS call,
but it imports the X-Ray SDK (about a tenth of a second, most of what boto3 itself costs) into every function;
README's "Tracing" says what each costs.
"""

import re

from aws_lambda_powertools.logging import Logger
from aws_lambda_powertools.metrics import Metrics

logger = Logger()
metrics = Metrics()

_LONG_NUMBER = re.compile(r"\+?\d[\d\s()-]{8,}\d")


def redacted(text: str) -> str:
    """Text from outside (a CRM's answer) fit for a log line: anything that could be a phone number masked."""
    return _LONG_NUMBER.sub("***", text)
