"""Run the template's functions in this process, the way Lambda runs them.

Each function's module is loaded from its CodeUri and invoked with exactly its own environment (Globals
merged with the function's variables, intrinsics resolved) and a Lambda context. Invocations run one at
a time: they share one process, and moto is not safe under concurrent use. Layer paths under /opt are
mapped onto the layers' directories, as Lambda mounts them.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import sys
import threading
import time
import uuid
import warnings
import weakref
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any, TextIO

from loyalty_tools.local.aws import FUNCTION_ACCESS_KEY
from loyalty_tools.local.template import ACCOUNT, REGION, FunctionSpec, Template

ROOT = Path(__file__).resolve().parents[3]


class LambdaContext:
    """The attributes of Lambda's context object that Powertools and our handlers read."""

    def __init__(self, spec: FunctionSpec):
        self.function_name = spec.logical_id
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = spec.memory
        self.invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{spec.logical_id}"
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{spec.logical_id}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + spec.timeout

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class FunctionHost:
    def __init__(self, template: Template, endpoint_url: str, env_overrides: dict[str, str] | None = None,
                 log_stream: TextIO | None = None):
        self.specs = {spec.logical_id: spec for spec in template.functions()}
        self.layer_dirs = template.layer_dirs()
        self.env_overrides = env_overrides or {}
        self.log_stream = log_stream
        self.base_env = {
            **os.environ,
            "AWS_ENDPOINT_URL": endpoint_url,
            "AWS_ACCESS_KEY_ID": FUNCTION_ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": FUNCTION_ACCESS_KEY,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            # No CloudWatch agent here: Powertools would print every metric's EMF line.
            "POWERTOOLS_METRICS_DISABLED": "true",
        }
        # Metrics are off locally (see above); Powertools still warns on every invocation that none were sent.
        warnings.filterwarnings("ignore", message="No application metrics to publish")
        self._handlers: dict[str, Callable[[dict[str, Any], Any], Any]] = {}
        self._lock = threading.Lock()
        self.running: str | None = None  # the function being invoked now, if any
        self.finished = 0  # invocations ended (a wait for the stack reads it as progress)
        # What each function was invoked for (the cost model bills it: bench/cost.py): invocations and handler seconds.
        self.invocations: Counter[str] = Counter()
        self.seconds: dict[str, float] = defaultdict(float)

    def environment(self, logical_id: str) -> dict[str, str]:
        spec = self.specs[logical_id]
        env = {name: self._mount(value) for name, value in spec.environment.items()}
        return {**self.base_env, **env, **self.env_overrides, "AWS_LAMBDA_FUNCTION_NAME": logical_id,
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory)}

    def invoke(self, logical_id: str, event: dict[str, Any]) -> Any:
        spec = self.specs[logical_id]
        with self._lock, self._environment(logical_id):
            self.running = logical_id
            started = time.perf_counter()
            try:
                return self._handler(spec)(event, LambdaContext(spec))
            finally:
                self.running = None
                self.finished += 1
                self.invocations[logical_id] += 1
                self.seconds[logical_id] += time.perf_counter() - started

    def module(self, logical_id: str) -> ModuleType:
        """The function's handler module, loaded (not invoked) with exactly its environment, as at cold start."""
        spec = self.specs[logical_id]
        with self._lock, self._environment(logical_id):
            return load_module(f"module_{logical_id}", spec.code_dir / f"{spec.handler.rpartition('.')[0]}.py")

    @contextlib.contextmanager
    def _environment(self, logical_id: str) -> Iterator[None]:
        with _swapped_environment(self.environment(logical_id)):
            yield

    @contextlib.contextmanager
    def exclusive(self, environment: dict[str, str], directory: Path = ROOT) -> Iterator[None]:
        """Run something else of this process (an operator's command) as a function would run: alone, with
        `environment` as its whole environment and `directory` as its working directory."""
        with self._lock, _swapped_environment(environment):
            saved = Path.cwd()
            os.chdir(directory)
            try:
                yield
            finally:
                os.chdir(saved)

    def _handler(self, spec: FunctionSpec) -> Callable[[dict[str, Any], Any], Any]:
        if spec.logical_id not in self._handlers:
            module_name, _, attribute = spec.handler.rpartition(".")
            module = load_module(f"lambda_{spec.logical_id}", spec.code_dir / f"{module_name}.py")
            self._handlers[spec.logical_id] = getattr(module, attribute)
            _redirect_stdout_logging(self.log_stream or sys.stdout)
        return self._handlers[spec.logical_id]

    def _mount(self, value: str) -> str:
        if not value.startswith("/opt/"):
            return value
        relative = value[len("/opt/"):]
        for layer in self.layer_dirs:
            if (layer / relative).exists():
                return str(layer / relative)
        return value


@contextlib.contextmanager
def _swapped_environment(environment: dict[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    _become(environment)
    try:
        yield
    finally:
        _become(saved)


def _become(environment: dict[str, str]) -> None:
    """Make os.environ `environment` without ever emptying it: a variable both have (AWS_REGION) is never absent, not
    even for a moment, to another thread of this process (a test reading it, a client being made)."""
    for name in [name for name in os.environ if name not in environment]:
        del os.environ[name]
    os.environ.update(environment)


def new_container() -> None:
    """Forget what a Lambda container keeps between invocations (settings, the program, Powertools' secret cache),
    so the next function loaded starts cold, like a new deploy. The package itself stays imported: a test that
    holds its classes and errors keeps comparing them with the functions' own. Clients are kept per endpoint
    (loyalty.adapters.aws): a new stack on the same moto server needs no new ones."""
    from aws_lambda_powertools.utilities import parameters

    from loyalty import settings
    from loyalty.adapters import program_file

    parameters.clear_caches()  # type: ignore[no-untyped-call]  # Powertools leaves it unannotated
    settings.environment.cache_clear()
    program_file.cached_program.cache_clear()


def load_module(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


_redirected: weakref.WeakSet[logging.Handler] = weakref.WeakSet()


def _redirect_stdout_logging(stream: TextIO) -> None:
    """Lambda sends a function's stdout to CloudWatch; locally it goes to `stream` (the terminal by default).

    Python's loggers outlive a local stack (Powertools builds a service's logger and its stdout handler once, when
    the package is first imported, maybe while something else had sys.stdout redirected), so every plain stream
    handler of a named logger that does not write to stderr is the functions' stdout here: the handlers of pytest
    and of the root logger are left alone."""
    for logger in logging.Logger.manager.loggerDict.values():
        for handler in getattr(logger, "handlers", []):
            if type(handler) is logging.StreamHandler and (
                handler in _redirected or handler.stream not in (sys.stderr, sys.__stderr__)
            ):
                # Not setStream(): it flushes the old stream, which an earlier stack may have closed.
                with handler.lock or contextlib.nullcontext():
                    handler.stream = stream
                _redirected.add(handler)
