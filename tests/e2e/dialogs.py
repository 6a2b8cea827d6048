"""docs/bot.md's dialogs are the end-to-end tests' own transcripts, so they cannot go stale.

`record(name, title, *chats)` renders the chats' transcripts (the Telegram emulator's, merged in the order things
happened, from the first chat's first message on) as Markdown and compares it with the section
`<!-- dialog:name -->` of docs/bot.md: a test fails when the document no longer shows what the bot does.
`make docs` (UPDATE_DOCS=1) rewrites the sections from a run.

What differs from run to run is written as a fixed stand-in: invitation codes, ticket and link ids, member ids, the
stack's address, a receipt QR's time and numbers. Dates are real: the dialogs run on a fixed clock.
"""

from __future__ import annotations

import difflib
import os
import re
from pathlib import Path
from typing import Any

DOC = Path(__file__).resolve().parents[2] / "docs" / "bot.md"
_STAND_INS = [
    (re.compile(r"ref_[A-Z2-9]{8}"), "ref_K7Q2M9XA"),
    (re.compile(r"#[A-Z2-9]{10}\b"), "#T4KX9QW2ZP"),
    (re.compile(r"http://127\.0\.0\.1:\d+/go/[A-Z2-9]{10}"), "https://<api>/go/F7H2K9M4QX"),
    (re.compile(r"\b7[01]\d{5}\b"), "7000042"),
    (re.compile(r"t=(\d{8})T\d+&s=([\d.]+)&fn=\d+&i=\d+&fp=\d+&n=(\d)"),
     r"t=\1T0900&s=\2&fn=7380440800000017&i=10001&fp=1234567890&n=\3"),
]


def record(name: str, title: str, *chats: Any) -> None:
    # The staff chat is shared by the module's dialogs: what it said before this shopper came belongs to another.
    begins = min((entry["seq"] for entry in chats[0].transcript()), default=0)
    entries = sorted(((chat, entry) for chat in chats for entry in chat.transcript() if entry["seq"] >= begins),
                     key=lambda e: e[1]["seq"])
    lines = [f"### {title}", ""]
    for chat, entry in entries:
        lines += _lines(chat, entry)
    section = _stable("\n".join(lines).rstrip() + "\n")
    begin, end = f"<!-- dialog:{name} -->", f"<!-- /dialog:{name} -->"
    document = DOC.read_text(encoding="utf-8")
    if begin not in document:
        document = document.rstrip() + f"\n\n{begin}\n{end}\n"
    head, rest = document.split(begin, 1)
    current, tail = rest.split(end, 1)
    if os.environ.get("UPDATE_DOCS"):
        DOC.write_text(f"{head}{begin}\n{section}{end}{tail}", encoding="utf-8")
        return
    changed = "\n".join(difflib.unified_diff(current.strip().splitlines(), section.strip().splitlines(), "docs/bot.md",
                                             "this run", lineterm="", n=1))
    assert not changed, \
        f"docs/bot.md no longer shows the {name!r} dialog as the bot runs it: run `make docs` and commit\n{changed}"


def _lines(chat: Any, entry: dict[str, Any]) -> list[str]:
    staff = getattr(chat, "chat", {}).get("type") == "supergroup"
    where = "🛠 *staff chat* · " if staff else ""
    if entry["from"] == "bot":
        text = entry["text"].replace("\n", "\n> ")
        lines = [f"> {where}**bot:** {'🖼 ' if entry.get('photo') else ''}{text}"]
        markup = entry.get("reply_markup") or {}
        inline = [" ".join(f"`{button['text']}`" for button in row) for row in markup.get("inline_keyboard", [])]
        menu = [" ".join(f"`{button['text'] if isinstance(button, dict) else button}`" for button in row)
                for row in markup.get("keyboard", [])]
        lines += [f"> {row}" for row in inline]
        if menu:
            lines.append("> ⌨️ " + " · ".join(menu))
        return [*lines, ""]
    name = entry.get("name", "shopper")
    if "tapped" in entry:
        said = f"*taps* `{_button_text(chat, entry)}`"
    elif "contact" in entry:
        own = entry["contact"].get("user_id") == entry.get("user")
        said = "*shares their phone*" if own else "*sends somebody else's contact*"
    elif "photo" in entry:
        said = "*sends a photo*"
    elif "document" in entry:
        said = "*sends a file*"
    else:
        said = entry.get("text", "")
        if entry.get("reply_to"):
            said = f"*replies to the bot:* {said}"
    return [f"{where}**{name}:** {said}", ""]


def _button_text(chat: Any, entry: dict[str, Any]) -> str:
    for earlier in chat.transcript():
        if earlier["from"] == "bot" and earlier.get("message_id") == entry.get("message_id"):
            for row in (earlier.get("reply_markup") or {}).get("inline_keyboard", []):
                for button in row:
                    if button.get("callback_data") == entry["tapped"]:
                        return str(button["text"])
    return str(entry["tapped"])


def _stable(text: str) -> str:
    for pattern, stand_in in _STAND_INS:
        text = pattern.sub(stand_in, text)
    return text
