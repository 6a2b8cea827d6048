"""The program file: YAML read and validated once per container into the domain's `Program`.

A bad file fails loudly at load with the path of the bad key.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

import yaml
from pydantic import ValidationError

from loyalty.domain.messages import use_brand_texts
from loyalty.domain.program import Program
from loyalty.validation import problems

# libyaml's safe loader where PyYAML's wheel carries it (each of Lambda's does), ten times the pure-Python one's pace.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class ProgramError(ValueError):
    """The program file is missing or invalid; the message names the bad key."""


def load_program(path: str | Path) -> Program:
    try:
        document = yaml.load(Path(path).read_text(encoding="utf-8"), Loader=_SAFE_LOADER)  # noqa: S506 - safe
    except (OSError, yaml.YAMLError) as error:
        raise ProgramError(f"cannot read program file {path}: {error}") from error
    try:
        return Program.model_validate(document)
    except ValidationError as error:
        raise ProgramError(f"program file {path} is invalid: {problems(error, '(root)')}") from error


@cache
def cached_program(path: str) -> Program:
    """The program a function runs with: one parse per container (the file ships in a read-only layer and
    never changes under us). In Lambda it refuses what is only safe offline, so the function does not start."""
    program = load_program(path)
    use_brand_texts(program.bot.texts)
    if program.receipts.accept_unverified_files and os.environ.get("AWS_EXECUTION_ENV", "").startswith("AWS_Lambda"):
        raise ProgramError(f"program file {path}: receipts.accept_unverified_files lets uploaded receipt files earn "
                           "without the receipt service's confirmation; it is for offline use only, and a function "
                           "in Lambda does not start with it on")
    return program
