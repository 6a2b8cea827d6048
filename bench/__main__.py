"""`make bench`: figures, written to bench/results.json, each next to a baseline measured in the same run.

- cold import of each function's module, as a ratio to `import boto3` (fresh interpreters, median of N);
- AWS requests per receipt end to end, counted at the moto server, by service and operation;
- receipts per second through the local stack, next to moto's own PutItem rate (the floor under it);
- QR decoders on the same generated receipt photos (bench/photos.py).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from loyalty_tools.local.receipts import marketplace_receipt, qr_of
from loyalty_tools.local.runtime import FunctionHost
from loyalty_tools.local.shopper import Shopper
from loyalty_tools.local.stack import ROOT, LocalStack
from loyalty_tools.local.template import Template

RESULTS = ROOT / "bench" / "results.json"
PROGRAM = ROOT / "tests" / "data" / "program.yaml"
SUPPLIER = "7700000024"
IMPORT_RUNS = 7
RECEIPTS = 30
SHOPPERS = 10  # 3 receipts each: within the test program's daily limit

_TIMED_IMPORT = """
import importlib.util, sys, time
start = time.perf_counter()
{body}
print(time.perf_counter() - start)
"""


def _timed(body: str, env: dict[str, str]) -> float:
    runs = []
    for _ in range(IMPORT_RUNS):
        out = subprocess.run([sys.executable, "-c", _TIMED_IMPORT.format(body=body)], env=env, check=True,
                             capture_output=True, text=True).stdout
        runs.append(float(out.strip().splitlines()[-1]))
    return statistics.median(runs)


def cold_imports() -> dict[str, object]:
    template = Template(ROOT / "template.yaml")
    host = FunctionHost(template, "http://127.0.0.1:9")
    baseline = _timed("import boto3", host.base_env)
    functions = {}
    for name, spec in host.specs.items():
        module = spec.code_dir / "app.py"
        body = (f"spec = importlib.util.spec_from_file_location('app', {str(module)!r})\n"
                "spec.loader.exec_module(importlib.util.module_from_spec(spec))\n"
                "print('telegram' in sys.modules, file=sys.stderr)")
        env = host.environment(name)
        seconds = _timed(body, env)
        loads_telegram = subprocess.run([sys.executable, "-c", _TIMED_IMPORT.format(body=body)], env=env,
                                        check=True, capture_output=True, text=True).stderr.strip() == "True"
        functions[name] = {"seconds": round(seconds, 4), "ratio_to_boto3": round(seconds / baseline, 2),
                           "imports_telegram": loads_telegram}
    return {"baseline_import_boto3_seconds": round(baseline, 4), "runs_each": IMPORT_RUNS,
            "functions": functions}


def local_stack_figures() -> dict[str, object]:
    with tempfile.TemporaryDirectory() as receipts_dir, open(os.devnull, "w") as quiet, LocalStack(
        receipts_dir=Path(receipts_dir), program_file=PROGRAM, log_stream=quiet,
    ) as stack:
        shoppers = [Shopper(stack.telegram.url, user_id=800_000 + n) for n in range(SHOPPERS)]
        for shopper in shoppers:
            shopper.say("/start")
            shopper.share_phone("+79160000000")
        for shopper in shoppers:
            shopper.wait_for_bot_messages(2)
        stack.wait_idle()
        receipts = []
        for n in range(RECEIPTS):
            raw = marketplace_receipt(SUPPLIER, [("Крем", 45000, 1)], fd=10_000 + n)
            stack.receipts.add(raw)
            receipts.append(qr_of(raw))

        before = stack.moto.counter.snapshot()
        start = time.perf_counter()
        for n, qr in enumerate(receipts):
            shoppers[n % SHOPPERS].say(qr)
        per_shopper = 2 + 2 * (RECEIPTS // SHOPPERS)
        for shopper in shoppers:
            shopper.wait_for_bot_messages(per_shopper, timeout=300)
        stack.wait_idle(timeout=120)
        elapsed = time.perf_counter() - start
        delta = stack.moto.counter.snapshot() - before

        # Baseline: moto's own PutItem rate, through the same server, in the same run.
        dynamodb, puts = stack.aws("dynamodb"), 200
        put_start = time.perf_counter()
        for n in range(puts):
            dynamodb.put_item(TableName="IdempotencyTable", Item={"id": {"S": f"bench-{n}"}})
        puts_per_second = puts / (time.perf_counter() - put_start)

    by_caller: dict[str, Counter[str]] = {"functions": Counter(), "plumbing": Counter()}
    for (caller, service, operation), count in delta.items():
        by_caller[caller][f"{service}.{operation}"] += count
    receipts_per_second = RECEIPTS / elapsed
    return {
        "receipts": RECEIPTS,
        "aws_requests_per_receipt": {
            "functions": {op: round(n / RECEIPTS, 2) for op, n in sorted(by_caller["functions"].items())},
            "functions_total": round(sum(by_caller["functions"].values()) / RECEIPTS, 2),
            "event_source_polling_total": round(sum(by_caller["plumbing"].values()) / RECEIPTS, 2),
            "note": "per receipt, from the QR message to the '+N баллов' message, including the "
                    "'чек принят' reply; polling is the emulated Lambda pollers' ReceiveMessage/DeleteMessage",
        },
        "throughput": {
            "receipts_per_second": round(receipts_per_second, 2),
            "baseline_moto_putitem_per_second": round(puts_per_second, 1),
            "putitems_per_receipt_time": round(puts_per_second / receipts_per_second, 1),
            "note": "one invocation at a time, as the local stack runs them: this measures moto as much "
                    "as the code",
        },
    }


def main() -> int:
    from bench.photos import compare

    results = {"python": sys.version.split()[0], "cold_import": cold_imports(), "local_stack": local_stack_figures(),
               "photo_decoders": compare()}
    RESULTS.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(results, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
