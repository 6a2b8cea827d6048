"""Secrets (bot token, webhook secret, receipt-service token, the stack's key, the CRM's secret) from SSM Parameter
Store: SecureString parameters of the standard tier, read through Powertools Parameters.

Only the parameter's name travels in the environment; the value is fetched and decrypted at run time (the account's
aws/ssm key) and cached for five minutes, so a changed secret is picked up without a deploy and no value ever sits
in the template. Standard parameters and their reads cost nothing; Secrets Manager charged $0.40 a secret a month
whether or not anything ran (README: "What it costs").
"""

from __future__ import annotations

from aws_lambda_powertools.utilities import parameters

_MAX_AGE_SECONDS = 300


def secret(name: str) -> str:
    value = parameters.get_parameter(name, decrypt=True, max_age=_MAX_AGE_SECONDS)
    if not isinstance(value, str) or not value:
        raise RuntimeError(f"secret {name} is empty")
    return value.strip()
