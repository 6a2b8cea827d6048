"""The Powertools Logger, Metrics and Tracer every function shares (service name from the environment)."""

import re

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
metrics = Metrics()
tracer = Tracer()

_LONG_NUMBER = re.compile(r"\+?\d[\d\s()-]{8,}\d")


def redacted(text: str) -> str:
    """Text from outside (a CRM's answer) fit for a log line: anything that could be a phone number masked."""
    return _LONG_NUMBER.sub("***", text)
