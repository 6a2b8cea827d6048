"""Product names as receipts print them, reduced to a form that compares reliably.

Cash registers print the same product as «КРЕМ д/рук», «Крем  для рук» or with Latin look-alike letters
(«KPEM» typed on a Latin keyboard). Normalising folds case, ё into е, Latin look-alikes into Cyrillic,
punctuation into spaces and runs of spaces into one.
"""

from __future__ import annotations

import re

# Latin letters that look like Cyrillic ones, mapped to those (after lower-casing).
_LOOKALIKES = str.maketrans({
    "a": "а", "b": "в", "c": "с", "e": "е", "h": "н", "k": "к", "m": "м", "o": "о", "p": "р", "t": "т",
    "x": "х", "y": "у", "ё": "е",
})
_NOT_WORD = re.compile(r"[^0-9a-zа-я]+")


def normalise_name(name: str) -> str:
    # Both sides of a comparison are folded the same way, so a Latin name («Borner») still meets itself.
    text = name.lower().translate(_LOOKALIKES)
    return " ".join(_NOT_WORD.sub(" ", text).split())


def name_matches(item_name: str, pattern: str) -> bool:
    """True when the normalised pattern occurs in the normalised item name as whole words."""
    return contains_words(normalise_name(item_name), normalise_name(pattern))


def contains_words(name: str, words: str) -> bool:
    """`name_matches` for names both already normalised (to normalise each only once)."""
    return bool(words) and f" {words} " in f" {name} "
