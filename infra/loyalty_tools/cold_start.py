"""How long each function's handler module takes to import at a cold start, against `import boto3` in the same run.

Each function is imported in a fresh interpreter with exactly its template environment (its literal values, dummies
for intrinsics: loyalty_tools.local.template), as Lambda's init does, and with what the build ships beside the code:
its modules compiled, and the program's snapshot (adapters/program_file.py) at PROGRAM_SNAPSHOT.
Runs alternate, boto3 then every function, round after round, so a busy moment of the machine falls on all of them
alike. `make bench` reports the median of the rounds' wall time, as the issue that set the budgets asked.

The test holds each function's own cost instead (`Intrinsic`): `python -X importtime` times every module a run imports,
the handler module's body too, and the fastest time of each module over the rounds is its cost. A busy machine only
ever adds to a module's time, so each module's fastest round strips the waits and the preemptions, module by module;
the function's cost is their sum, boto3's the sum of its own. On this 2-core machine, with every core loaded by
stress-ng, these ratios moved by at most 0.1, where the fastest whole round's CPU time moved by 0.3 and the wall time
by 0.9. It also names what a function imports beyond boto3, heaviest first: where to look when one grows.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from loyalty.adapters.program_file import write_snapshot
from loyalty_tools.local.runtime import FunctionHost
from loyalty_tools.local.template import Template

ROOT = Path(__file__).resolve().parents[2]
WEBHOOK = "BotWebhookFunction"
# The budgets, as ratios to `import boto3`: the webhook answers a shopper who waits; the others answer a queue.
BUDGETS = {WEBHOOK: 1.5}
OTHERS_BUDGET = 2.5
_TIMED = "import time\nstart = time.perf_counter()\n{body}\nprint(time.perf_counter() - start)\n"
_BOTO3 = "import boto3"


@dataclass(frozen=True)
class Measured:
    baseline_seconds: list[float]  # import boto3, each round: wall time
    seconds: dict[str, list[float]]  # each function's module, each round: wall time

    def ratio(self, name: str) -> float:
        """The median round's wall time, as `make bench` reports it."""
        return statistics.median(self.seconds[name]) / statistics.median(self.baseline_seconds)


def budget(name: str) -> float:
    return BUDGETS.get(name, OTHERS_BUDGET)


def host() -> FunctionHost:
    return FunctionHost(Template(ROOT / "template.yaml"), "http://127.0.0.1:9")


@cache
def _snapshot() -> str:
    """The program's snapshot as `sam build` writes it (layers/loyalty/Makefile), once per process."""
    path = Path(tempfile.mkdtemp(prefix="loyalty-cold-start-")) / "program.snapshot"
    write_snapshot(ROOT / "program" / "program.yaml", path)
    return str(path)


def environment(functions: FunctionHost, name: str) -> dict[str, str]:
    """`name`'s template environment, with the snapshot where the build puts one."""
    return functions.environment(name) | {"PROGRAM_SNAPSHOT": _snapshot()}


def _module_body(functions: FunctionHost, name: str) -> str:
    """The handler module imported by its name, from the function's own folder first, as Lambda's init does."""
    spec = functions.specs[name]
    return f"import sys; sys.path.insert(0, {str(spec.code_dir)!r})\nimport {spec.handler.rpartition('.')[0]}"


def _run(body: str, env: dict[str, str], *flags: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *flags, "-c", _TIMED.format(body=body)],  # noqa: S603 (our own code)
                          env=env, capture_output=True, text=True, check=True)


def _compile(functions: FunctionHost, names: list[str]) -> None:
    """Every module each function imports compiled once: the template's PYTHONDONTWRITEBYTECODE would have each
    round compile them again."""
    for name in names:
        _run(_module_body(functions, name), {key: value for key, value in environment(functions, name).items()
                                             if key != "PYTHONDONTWRITEBYTECODE"})


def measure(names: list[str] | None = None, rounds: int = 7) -> Measured:
    """`rounds` alternating rounds: boto3, then each function, once each function's modules are compiled (a fresh
    clone has no __pycache__; what compiling costs is the deployment's, README: "Cold starts")."""
    functions = host()
    names = names or list(functions.specs)
    _compile(functions, names)
    measured = Measured([], {name: [] for name in names})
    for _ in range(rounds):
        measured.baseline_seconds.append(float(_run(_BOTO3, functions.base_env).stdout.split()[-1]))
        for name in names:
            timed = _run(_module_body(functions, name), environment(functions, name))
            measured.seconds[name].append(float(timed.stdout.split()[-1]))
    return measured


def _import_times(body: str, env: dict[str, str]) -> dict[str, int]:
    """Each module's own import time in microseconds (python -X importtime), from one run."""
    times = {}
    for line in _run(body, env, "-X", "importtime").stderr.splitlines():
        if line.startswith("import time:") and "self [us]" not in line:
            own, _, module = line.removeprefix("import time:").split("|")
            times[module.strip()] = int(own)
    return times


@dataclass(frozen=True)
class Intrinsic:
    """Each module's fastest own import time over the rounds, in microseconds: boto3's, and each function's."""

    baseline: dict[str, int]
    modules: dict[str, dict[str, int]]

    def ratio(self, name: str) -> float:
        return sum(self.modules[name].values()) / sum(self.baseline.values())

    def heaviest_beyond_boto3(self, name: str, count: int = 5) -> list[tuple[str, float]]:
        """What `name` imports that `import boto3` does not, by top-level package (ours: by module), heaviest
        first, in milliseconds."""
        beyond: Counter[str] = Counter()
        for module, micro in self.modules[name].items():
            if module not in self.baseline:
                parts = module.split(".")
                beyond[".".join(parts[:3]) if parts[0] == "loyalty" else parts[0]] += micro
        return [(package, round(micro / 1000, 1)) for package, micro in beyond.most_common(count)]


def _fastest(into: dict[str, int], run: dict[str, int]) -> None:
    for module, micro in run.items():
        into[module] = min(into.get(module, micro), micro)


def intrinsic(names: list[str] | None = None, rounds: int = 5) -> Intrinsic:
    """`rounds` alternating importtime rounds: boto3, then each function (modules compiled first, as in `measure`)."""
    functions = host()
    names = names or list(functions.specs)
    _compile(functions, names)
    measured = Intrinsic({}, {name: {} for name in names})
    for _ in range(rounds):
        _fastest(measured.baseline, _import_times(_BOTO3, functions.base_env))
        for name in names:
            _fastest(measured.modules[name], _import_times(_module_body(functions, name), environment(functions, name)))
    return measured
