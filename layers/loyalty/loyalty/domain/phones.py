"""Phone numbers as people type them, and as the console shows them to a role that may not see them whole."""

from __future__ import annotations


def typed_phone(text: str) -> str | None:
    """E.164 for a phone typed any way a person types a Russian one — «8 (916) 000-05-62», «+7 916 000 05 62»,
    «9160000562» — or another country's with its code; None for what is not a phone."""
    digits = "".join(ch for ch in text if ch.isdigit())
    if len(digits) == 10 and digits.startswith("9"):
        return f"+7{digits}"
    if len(digits) == 11 and digits[0] in "78":
        return f"+7{digits[1:]}"
    if text.strip().startswith("+") and 10 <= len(digits) <= 15:
        return f"+{digits}"
    return None


def masked(phone: str | None) -> str | None:
    """«+7 ••• •••-••-62»: enough to tell two members apart on the phone with them, not to call them."""
    if not phone:
        return None
    return f"{phone[:2]} ••• •••-••-{phone[-2:]}"
