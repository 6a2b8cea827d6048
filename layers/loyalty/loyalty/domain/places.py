"""Where a purchase was made, in the words a sentence needs.

Russian declines a store's name: «за покупку в Золотом Яблоке», «чек из Золотого Яблока», «на сайте Лепесток».
A text says `{store}` for the name as it stands, `{store_at}` for where the purchase was and `{store_from}` for
where a receipt came from; the program file gives those forms for every name Russian declines (`forms:`).
A Latin name (Wildberries, Ozon) does not decline, and an unknown seller is named as its receipt prints it,
in quotes after «магазин».
"""


import re
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from loyalty.domain.bot_program import Words, words

_CYRILLIC = re.compile("[а-яё]", re.IGNORECASE)
_AT = ("в ", "во ", "на ")
_FROM = ("из ", "изо ", "с ", "со ", "от ")


def declines(title: str) -> bool:
    """Whether Russian changes this name with its case: any Cyrillic word does; Wildberries does not."""
    return bool(_CYRILLIC.search(title))


class StoreForms(BaseModel):
    """The name after a preposition, as the texts need it: `at` («в Золотом Яблоке»), `from` («из Золотого
    Яблока»). Per language like any text; a language not given is written «at …» / «from …» from the title."""

    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True, populate_by_name=True)

    at: Words = Field(description="where the purchase was: «в Золотом Яблоке», «на сайте Лепесток»")
    from_: Words = Field(alias="from", description="where the receipt came from: «из Золотого Яблока»")

    @field_validator("at")
    @classmethod
    def _at(cls, value: str | dict[str, str]) -> str | dict[str, str]:
        return _starts(value, _AT, "at")

    @field_validator("from_")
    @classmethod
    def _from(cls, value: str | dict[str, str]) -> str | dict[str, str]:
        return _starts(value, _FROM, "from")


def _starts(value: str | dict[str, str], prepositions: tuple[str, ...], key: str) -> str | dict[str, str]:
    russian = words(value, "ru")
    if not russian.lower().startswith(prepositions):
        allowed = ", ".join(f"«{word.strip()} …»" for word in prepositions)
        raise ValueError(f"{key}: the Russian form starts with its preposition ({allowed}), e.g. «в Золотом Яблоке»")
    return value


@dataclass(frozen=True)
class Place:
    """A store as texts name it: its title and, where the program gives them, its declined forms."""

    title: str | dict[str, str]
    forms: StoreForms | None = None

    def words(self, language: str) -> tuple[str, str, str]:
        """(name, at, from) in `language`."""
        name = words(self.title, language)
        given = _given(self.forms.at, language) if self.forms else None
        given_from = _given(self.forms.from_, language) if self.forms else None
        if given and given_from:
            return name, given, given_from
        if language != "ru":
            return name, f"at {name}", f"from {name}"
        if not declines(name):
            return name, f"в {name}", f"из {name}"
        quoted = name if name.startswith("«") else f"«{name}»"
        return name, f"в магазине {quoted}", f"из магазина {quoted}"

    def params(self, key: str, language: str) -> dict[str, Any]:
        """The text's placeholders for this place named `key`: {key}, {key_at}, {key_from}."""
        name, at, came_from = self.words(language)
        return {key: name, f"{key}_at": at, f"{key}_from": came_from}


def _given(value: str | dict[str, str], language: str) -> str | None:
    """The form the program gives in `language`; a plain string is the Russian one."""
    if isinstance(value, str):
        return value if language == "ru" else None
    return value.get(language)
