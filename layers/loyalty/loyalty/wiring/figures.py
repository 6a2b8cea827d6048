"""The figures kept from the tables' streams."""

from __future__ import annotations

from loyalty.adapters.figures_table import FiguresTable
from loyalty.adapters.program_file import cached_program
from loyalty.adapters.queues import DeadLetterQueue
from loyalty.flows.figures import FigureKeeper
from loyalty.settings import FiguresSettings


def figures(settings: FiguresSettings) -> FigureKeeper:
    return FigureKeeper(cached_program(settings.PROGRAM_FILE), FiguresTable(settings.FIGURES_TABLE),
                        DeadLetterQueue(settings.DEAD_LETTER_QUEUE_URL))
