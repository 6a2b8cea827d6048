"""Secrets (bot token, webhook secret, receipt-service token) from AWS Secrets Manager.

Only the secret's name travels in the environment; the value is fetched at run time and cached for five
minutes, so a rotated secret is picked up without a deploy and no value ever sits in the template.
"""

from __future__ import annotations

from aws_lambda_powertools.utilities import parameters

_MAX_AGE_SECONDS = 300


def secret(name: str) -> str:
    value = parameters.get_secret(name, max_age=_MAX_AGE_SECONDS)
    if not isinstance(value, str) or not value:
        raise RuntimeError(f"secret {name} is empty")
    return value.strip()
