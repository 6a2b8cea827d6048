import contextlib
import json
import os
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import pytest
from xdist.scheduler import LoadFileScheduling

import loyalty_tools.local  # noqa: F401 (first: the functions' container environment, before the package is imported)
from loyalty_tools.local.stack import LocalStack

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "tests" / "data" / "receipts"  # copies of ../shared/receipts/samples (real receipts)
TEST_PROGRAM = ROOT / "tests" / "data" / "program.yaml"

from hypothesis import settings  # noqa: E402

# No example has a deadline: a test may share its cores with other work, and how long an example takes is not what
# any property here asserts (a busy CI once failed a 0.01 ms example that took 261 ms).
settings.register_profile("steady", deadline=None)
# `HYPOTHESIS_PROFILE=deep make test` searches far longer than the default run.
settings.register_profile("deep", max_examples=5000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "steady"))

# The fuzzers (tests/fuzz, and the redemption API's contract test) give each target FUZZ_EXAMPLES inputs and count
# them; `make fuzz` gives thousands and writes the counts to FUZZ_REPORT (bench/fuzz.json).
FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "30"))
_TRIED: Counter[str] = Counter()


Tried = Callable[[str], None]  # counts a fuzz target's inputs


@pytest.fixture
def tried() -> Tried:
    """Count one input given to `target`."""
    return lambda target: _TRIED.update([target])


_worker_stack = None


def worker_stack() -> LocalStack:
    """This process's local stack (one per pytest-xdist worker), started at its first use and stopped with the
    session. A test module takes it with `deployed`, which redeploys it in a fraction of a second instead of
    starting a stack of its own (about 3.5 s)."""
    global _worker_stack
    if _worker_stack is None:
        _worker_stack = LocalStack(event_sources=False).start()
    return _worker_stack


@contextlib.contextmanager
def deployed(**options: Any) -> Iterator[LocalStack]:
    """The worker's stack as a new one started with `options` (LocalStack.redeploy) would be; its queues' pollers
    stop when the block ends."""
    stack = worker_stack().redeploy(**options)
    try:
        yield stack
    finally:
        stack.park()


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto`: three workers a core. The suite mostly waits (on the stack's queues, the pace, the browser), and
    beside other work on the same cores the workers' share of them grows with their number: beside stress-ng on both
    cores of a 2-core machine, 6:19 with six workers, 6:43 with five, 7:14–8:05 with three (quiet: 4:18–4:35)."""
    return 3 * (os.cpu_count() or 1)


# The files with a run of minutes: the small load and chaos runs, and the demo (a simulated month). Each starts first,
# on a worker of its own, and the file that worker is handed to follow it is the smallest left (LongRunsFirst).
LONG_RUNS = frozenset({"tests/e2e/test_chaos.py", "tests/e2e/test_load.py", "tests/e2e/test_commands.py"})


def _file(nodeid: str) -> str:
    return nodeid.split("::")[0]


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The order pytest-xdist hands files out in (`--no-loadscope-reorder` leaves it to us): the long runs first, so a
    two-minute run starts while the other workers take the short files instead of starting last with the others
    idle; then the files with the most tests, as xdist's own reorder would. Within a file, pytest-randomly's shuffle
    stands."""
    per_file = Counter(_file(item.nodeid) for item in items)
    items.sort(key=lambda item: (_file(item.nodeid) not in LONG_RUNS, -per_file[_file(item.nodeid)]))


class LongRunsFirst(LoadFileScheduling):
    """`--dist loadfile`, but a worker running a long run is handed the smallest file left to follow it.

    xdist hands a worker its next file while it still holds two tests or fewer (a worker starts its last test only
    once it knows what follows it). A long run's file holds one or two: xdist would queue the next large file behind
    it, minutes, while the other workers run dry at the end."""

    def _assign_work_unit(self, node: Any) -> None:
        held = self.assigned_work.get(node, {})
        if any(scope in LONG_RUNS and not all(tests.values()) for scope, tests in held.items()):
            self.workqueue.move_to_end(min(self.workqueue, key=lambda scope: len(self.workqueue[scope])), last=False)
        super()._assign_work_unit(node)


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> LoadFileScheduling | None:
    return LongRunsFirst(config, log) if config.getvalue("dist") == "loadfile" else None


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _worker_stack is not None:
        _worker_stack.stop()
    report = os.environ.get("FUZZ_REPORT")
    if report and _TRIED:
        figures = {"inputs_tried": dict(sorted(_TRIED.items())), "total": sum(_TRIED.values()),
                   "failed_tests": session.testsfailed, "examples_per_target": FUZZ_EXAMPLES}
        (ROOT / report).write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")


T = TypeVar("T")


def present(value: T | None) -> T:
    """`value`, which a test expects to be there (a member, an entry): mypy reads on with it as found."""
    assert value is not None, "expected to be present"
    return value


def daytime(moment: datetime) -> datetime:
    """`moment`, or the next Moscow noon when it falls in the shipped program's quiet hours (21:00–10:00): a test
    that sends letters must not depend on the hour the suite runs at."""
    local = moment.astimezone(ZoneInfo("Europe/Moscow"))
    if 10 <= local.hour < 21:
        return moment
    noon = local.replace(hour=12, minute=0, second=0, microsecond=0)
    return noon if noon > local else noon + timedelta(days=1)
