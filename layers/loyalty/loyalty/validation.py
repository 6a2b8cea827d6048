"""How a pydantic validation error reads in a log line, a dead letter's reason or an operator's terminal."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydantic import ValidationError


def problems(error: ValidationError, root: str) -> str:
    """One line naming each bad key and what is wrong with it (`root` names a problem with the whole):
    `levels.2.percent: Input should be a valid decimal; brand: Field required`."""
    return "; ".join(f"{'.'.join(str(part) for part in problem['loc']) or root}: {problem['msg']}"
                     for problem in error.errors())
