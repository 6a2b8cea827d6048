"""The closed community: a private Telegram group or channel a member joins by a join request, which the bot approves
only at the level that opens it. Pure: no I/O.

Whether a member belongs there is their level's to say, so the same test decides a join request, and whether a member
whose level dropped (or who was erased) is removed."""

from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from loyalty.domain import levels
from loyalty.domain.bot_program import Words

if TYPE_CHECKING:
    from loyalty.domain.program import Program
    from loyalty.domain.wallet import Wallet


class Community(BaseModel):
    """`community:` in the program file."""

    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True)

    chat_id: int = Field(lt=0, description="the private group's or channel's id (the bot is its admin)")
    title: Words
    min_level: str = Field(description="the level that opens it (its perk «закрытое сообщество»)")
    invite_link: str = Field(pattern=r"^https://t\.me/\+", description="an invite link that creates join requests")


def entitled(program: "Program", wallet: "Wallet") -> bool:
    """Whether the member's level opens the community (False where the program has none)."""
    return opens(program, program.levels[levels.current_index(program, wallet)].id if program.levels else None)


def opens(program: "Program", level_id: str | None) -> bool:
    """Whether `level_id` (None: the first level) is the community's level or above."""
    community = program.community
    gate = program.level(community.min_level) if community is not None else None
    if gate is None:
        return False
    rank = next((index for index, level in enumerate(program.levels) if level.id == level_id), 0)
    return rank >= program.levels.index(gate)
