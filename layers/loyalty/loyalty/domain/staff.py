"""The brand's staff and what each role may do in the staff chat (the console's roles, the same words).

Until the console keeps staff in a table, the program file names them (`bot.staff`) by Telegram id. Anyone else in
the staff group may read and talk, but not decide: a review's approval pays points, an answer speaks for the brand.
"""


from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class Role(StrEnum):
    OWNER = "owner"
    MARKETER = "marketer"
    SUPPORT = "support"
    VIEWER = "viewer"


class Right(StrEnum):
    DECIDE_REVIEW = "decide_review"  # approve or reject a review's proof (its bonus)
    ANSWER = "answer"  # reply to a shopper's ticket, complaint or reward order
    DECIDE_RECEIPT = "decide_receipt"  # approve or reject a receipt held as suspicious (its points)


RIGHTS: dict[Role, frozenset[Right]] = {
    Role.OWNER: frozenset(Right),
    Role.MARKETER: frozenset({Right.DECIDE_REVIEW}),
    Role.SUPPORT: frozenset({Right.DECIDE_REVIEW, Right.ANSWER, Right.DECIDE_RECEIPT}),
    Role.VIEWER: frozenset(),
}


class StaffMember(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True)

    telegram_id: int = Field(gt=0, description="the person's Telegram user id")
    role: Role
    name: str = Field(default="", max_length=64, description="how the staff chat names who decided")


def may(staff: StaffMember | None, right: Right, user_id: int, about_member: str | None = None) -> bool:
    """Whether the person `user_id` may use `right` on something of `about_member`: only a staff member whose role
    has it, and never on their own review, ticket or receipt (a shopper who is also staff)."""
    if staff is None or staff.telegram_id != user_id or right not in RIGHTS[staff.role]:
        return False
    return about_member is None or about_member != str(user_id)
