"""The brand's wording of the bot's texts, as the webhook's edge reads it without loading the program (flows/edge.py).

It is the program file's `bot.texts`, unless the console reworded them. The console's "texts" section then replaces
the file's, as everywhere else (flows/console_read.py, applying domain/everyday.py). It is read at most
once a minute in a container, like the console's other changes, so a reworded text reaches the edge within a minute.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from loyalty import clock
from loyalty.adapters.aws import client
from loyalty.domain.errors import StorageUnavailable
from loyalty.observability import logger

_FRESH_FOR = timedelta(minutes=1)
# Where the console keeps its change of the program's texts section (adapters/console_table.py: keep_change).
_TEXTS_CHANGE = {"pk": {"S": "program"}, "sk": {"S": "texts"}}


class BrandTexts:
    def __init__(self, program_file: str, console_table: str):
        self.program_file = program_file
        self.console_table = console_table  # "": no console deployed
        self._read_at: datetime | None = None
        self._texts: dict[str, dict[str, str]] = {}

    def __call__(self) -> dict[str, dict[str, str]]:
        now = clock.now()
        if self._read_at is None or not timedelta(0) <= now - self._read_at < _FRESH_FOR:
            try:
                reworded = self._console() if self.console_table else None
            except StorageUnavailable:  # the receipt is queued already: it is acknowledged in the words last read
                logger.warning("the console's texts could not be read; the last ones read answer", exc_info=True)
                return self._texts if self._read_at is not None else _file_texts(self.program_file)
            self._texts, self._read_at = reworded if reworded is not None else _file_texts(self.program_file), now
        return self._texts

    def _console(self) -> dict[str, dict[str, str]] | None:
        item = client("dynamodb").get_item(TableName=self.console_table, Key=_TEXTS_CHANGE,
                                           ProjectionExpression="change").get("Item")
        if item is None:
            return None
        texts: dict[str, dict[str, str]] = json.loads(item["change"]["S"])["value"]
        return texts


@cache
def _file_texts(program_file: str) -> dict[str, dict[str, str]]:
    """The program file's `bot.texts` (the file ships in a read-only layer: read once). PyYAML loads here only, on
    the edge's first receipt; the program's validation is every other function's."""
    import yaml

    loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    document = yaml.load(Path(program_file).read_text(encoding="utf-8"), Loader=loader)  # noqa: S506 - safe
    texts: dict[str, dict[str, str]] = ((document or {}).get("bot") or {}).get("texts") or {}
    return texts
