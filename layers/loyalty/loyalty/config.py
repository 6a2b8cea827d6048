"""The program file: the brand's INNs, catalog, channels and earning rules, validated at load.

A bad file fails loudly at load with the path of the bad key, never half-way through a receipt.
"""

from __future__ import annotations

from decimal import Decimal
from functools import cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator


class ProgramError(ValueError):
    """The program file is missing or invalid; the message names the bad key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _inns(values: list[str]) -> list[str]:
    cleaned = [str(value).strip() for value in values]
    for inn in cleaned:
        if not inn.isdigit() or len(inn) not in (10, 12):
            raise ValueError(f"{inn!r} is not a 10- or 12-digit INN")
    return cleaned


class CatalogEntry(_Strict):
    gtin: str | None = None
    name: str
    category: str | None = None

    @field_validator("gtin")
    @classmethod
    def _gtin(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = str(value).strip()
        if not value.isdigit() or len(value) > 14:
            raise ValueError("gtin must be up to 14 digits")
        return value.zfill(14)


class Brand(_Strict):
    name: str
    inns: list[str] = Field(default_factory=list, description="INNs the brand sells under itself (d2c)")
    supplier_inns: list[str] = Field(
        default_factory=list, description="INNs that appear as providerInn on marketplace receipts"
    )
    catalog: list[CatalogEntry] = Field(default_factory=list)
    name_patterns: list[str] = Field(
        default_factory=list, description="words that mark the brand's goods by name in other stores"
    )

    @field_validator("inns", "supplier_inns")
    @classmethod
    def _check_inns(cls, values: list[str]) -> list[str]:
        return _inns(values)


class Channel(_Strict):
    """A place of purchase, recognised by the seller's INN (and, where one legal entity runs several
    stores, by a hint found in the receipt's `retailPlace`)."""

    name: str
    title: str = Field(description="how the store is named to shoppers")
    kind: str = Field(pattern="^(marketplace|retail)$")
    inns: list[str] = Field(min_length=1)
    retail_places: list[str] = Field(default_factory=list)

    @field_validator("inns")
    @classmethod
    def _check_inns(cls, values: list[str]) -> list[str]:
        return _inns(values)


class Earning(_Strict):
    base_percent: Decimal = Field(ge=0, le=100)


class Receipts(_Strict):
    max_age_days: int = Field(default=30, ge=1)
    max_per_day: int | None = Field(default=None, ge=1, description="receipts a member may register a day")
    order_pair_days: int = Field(default=90, ge=1, description="how far apart an order's prepayment and "
                                 "settlement receipts may be")
    accept_unverified_files: bool = Field(default=False, description="offline use only: trust uploaded "
                                          "receipt files the receipt service cannot confirm")


class Program(_Strict):
    brand: Brand
    earning: Earning
    receipts: Receipts = Receipts()
    channels: list[Channel] = Field(default_factory=list)


def load_program(path: str | Path) -> Program:
    try:
        document = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise ProgramError(f"cannot read program file {path}: {error}") from error
    try:
        return Program.model_validate(document)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in problem['loc']) or '(root)'}: {problem['msg']}"
            for problem in error.errors()
        )
        raise ProgramError(f"program file {path} is invalid: {problems}") from error


@cache
def cached_program(path: str) -> Program:
    """One parse per container: the file ships in a read-only layer and never changes under us."""
    return load_program(path)
