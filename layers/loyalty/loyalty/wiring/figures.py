"""The figures kept from the tables' streams."""

from __future__ import annotations

from typing import TYPE_CHECKING

from loyalty.adapters.figures_table import FiguresTable
from loyalty.adapters.queues import DeadLetterQueue
from loyalty.flows.figures import FigureKeeper
from loyalty.wiring.live import program_of

if TYPE_CHECKING:
    from loyalty.settings import FiguresSettings


def figures(settings: FiguresSettings) -> FigureKeeper:
    return FigureKeeper(program_of(settings), FiguresTable(settings.FIGURES_TABLE),
                        DeadLetterQueue(settings.DEAD_LETTER_QUEUE_URL))
