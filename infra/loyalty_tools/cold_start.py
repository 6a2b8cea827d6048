"""How long each function's handler module takes to import at a cold start, against `import boto3` in the same run.

Each function is imported in a fresh interpreter with exactly its template environment (its literal values, dummies
for intrinsics: loyalty_tools.local.template), as Lambda's init does. Runs alternate, boto3 then every function, round
after round, so a busy moment of the machine falls on all of them alike; each figure is the median of its rounds.
`python -X importtime` names what a function imports beyond boto3, heaviest first: where to look when one grows.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from loyalty_tools.local.runtime import FunctionHost
from loyalty_tools.local.template import Template

ROOT = Path(__file__).resolve().parents[2]
WEBHOOK = "BotWebhookFunction"
# The budgets, as ratios to `import boto3`: the webhook answers a shopper who waits; the others answer a queue.
BUDGETS = {WEBHOOK: 1.5}
OTHERS_BUDGET = 2.5

_TIMED = "import time, importlib.util as u\nstart = time.perf_counter()\n{body}\nprint(time.perf_counter() - start)\n"
_BOTO3 = "import boto3"


@dataclass(frozen=True)
class Measured:
    baseline_seconds: float  # import boto3
    seconds: dict[str, float]  # each function's module

    def ratio(self, name: str) -> float:
        return self.seconds[name] / self.baseline_seconds


def budget(name: str) -> float:
    return BUDGETS.get(name, OTHERS_BUDGET)


def host() -> FunctionHost:
    return FunctionHost(Template(ROOT / "template.yaml"), "http://127.0.0.1:9")


def _module_body(functions: FunctionHost, name: str) -> str:
    spec = functions.specs[name]
    path = spec.code_dir / f"{spec.handler.rpartition('.')[0]}.py"
    return (f"s = u.spec_from_file_location('app', {str(path)!r})\n"
            "s.loader.exec_module(u.module_from_spec(s))")


def _run(body: str, env: dict[str, str], *flags: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *flags, "-c", _TIMED.format(body=body)],  # noqa: S603 (our own code)
                          env=env, capture_output=True, text=True, check=True)


def measure(names: list[str] | None = None, rounds: int = 7) -> Measured:
    """Medians of `rounds` alternating rounds: boto3, then each function."""
    functions = host()
    names = names or list(functions.specs)
    baseline: list[float] = []
    seconds: dict[str, list[float]] = {name: [] for name in names}
    for _ in range(rounds):
        baseline.append(float(_run(_BOTO3, functions.base_env).stdout.split()[-1]))
        for name in names:
            seconds[name].append(float(_run(_module_body(functions, name), functions.environment(name))
                                       .stdout.split()[-1]))
    return Measured(statistics.median(baseline), {name: statistics.median(runs) for name, runs in seconds.items()})


def _import_times(body: str, env: dict[str, str]) -> Counter[str]:
    """Each top-level package's own import time in microseconds (python -X importtime), from one run."""
    times: Counter[str] = Counter()
    for line in _run(body, env, "-X", "importtime").stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        own, _, name = line.removeprefix("import time:").split("|")
        times[name.strip().split(".")[0] if not name.strip().startswith("loyalty.") else
              ".".join(name.strip().split(".")[:3])] += int(own)
    return times


def heaviest_beyond_boto3(name: str, count: int = 5) -> list[tuple[str, float]]:
    """What `name`'s module imports that `import boto3` does not, heaviest first: (package, milliseconds)."""
    functions = host()
    mine = _import_times(_module_body(functions, name), functions.environment(name))
    boto3 = _import_times(_BOTO3, functions.base_env)
    beyond = Counter({package: micro for package, micro in mine.items() if package not in boto3})
    return [(package, round(micro / 1000, 1)) for package, micro in beyond.most_common(count)]
