"""What a member tells about themselves in the Mini App's profile: their interests, as the program asks them (for a
cosmetics brand: the skin type, what they care for). Segments read them, a message may name them
(`{interest_<id>:fallback}`), the report shows how they spread. Pure: no I/O."""

import re
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field, model_validator

from loyalty.domain.bot_program import Words, words

PLACEHOLDER = re.compile(r"\{interest_([a-z][a-z0-9_]*)")  # a message's {interest_<id>:…}
PREFIX = "interest_"


class _Strict(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True)


class Option(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")
    title: Words


class Interest(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")
    title: Words
    options: list[Option] = Field(min_length=2, max_length=20)
    multiple: bool = Field(default=False, description="several options may be chosen")

    @model_validator(mode="after")
    def _unique(self) -> "Interest":
        if len({option.id for option in self.options}) != len(self.options):
            raise ValueError(f"profile.interests.{self.id}: option ids must be unique")
        return self

    def option(self, option_id: str) -> Option | None:
        return next((option for option in self.options if option.id == option_id), None)


class Profile(_Strict):
    interests: list[Interest] = Field(default_factory=list, max_length=10)

    @model_validator(mode="after")
    def _unique(self) -> "Profile":
        if len({interest.id for interest in self.interests}) != len(self.interests):
            raise ValueError("profile.interests: ids must be unique")
        return self

    def interest(self, interest_id: str) -> Interest | None:
        return next((interest for interest in self.interests if interest.id == interest_id), None)

    def cleaned(self, given: Mapping[str, list[str]]) -> dict[str, list[str]]:
        """The member's answers as kept: each interest the program asks, its options in the program's order (an
        empty list: they chose none). ValueError names an unknown interest or option, or several for a single one."""
        kept: dict[str, list[str]] = {}
        for interest_id, chosen in given.items():
            interest = self.interest(interest_id)
            if interest is None:
                raise ValueError(f"no interest {interest_id!r}")
            unknown = [option for option in chosen if interest.option(option) is None]
            if unknown:
                raise ValueError(f"{interest_id}: no option {unknown[0]!r}")
            if len(set(chosen)) > 1 and not interest.multiple:
                raise ValueError(f"{interest_id}: one option only")
            kept[interest_id] = [option.id for option in interest.options if option.id in chosen]
        return kept

    def named(self, interests: Mapping[str, list[str]], language: str) -> dict[str, str]:
        """`interest_<id>`: the member's chosen options in their words («сухая», «увлажнение, SPF»), for a message."""
        values = {}
        for interest in self.interests:
            chosen = [words(option.title, language) for option in interest.options
                      if option.id in interests.get(interest.id, ())]
            if chosen:
                values[PREFIX + interest.id] = ", ".join(chosen)
        return values
