"""The embedded local stack: moto server, the Telegram and receipt-service emulators, and the template's
functions wired to them by the template's own event sources.

One stack per process at a time: they would share moto's state (see MotoServer).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from loyalty.adapters.program_file import load_program
from loyalty.domain.program import Mindbox
from loyalty_tools.local.aws import MotoServer, Resources, plumbing_client, provision
from loyalty_tools.local.event_sources import HttpApi, Poller, QueuePoller, StreamPoller, scheduled_event
from loyalty_tools.local.mindbox_emulator import MindboxEmulator
from loyalty_tools.local.receipt_emulator import ReceiptEmulator
from loyalty_tools.local.runtime import FunctionHost, new_container
from loyalty_tools.local.telegram_emulator import BOT_USER, TelegramEmulator
from loyalty_tools.local.template import Template
from loyalty_tools.local.webhook_receiver import WebhookReceiver

ROOT = Path(__file__).resolve().parents[3]
WEBHOOK_PATH = "/telegram/webhook"


@dataclass(frozen=True)
class Deploy:
    """What differs between two deploys of the same stack: the program, the template's parameters, where the
    functions log and whether the queues' event sources run."""

    program_file: Path | None = None
    receipts_dir: Path | None = None
    retry_base_seconds: int = 1
    parameter_overrides: tuple[tuple[str, str], ...] = ()
    event_sources: bool = True
    log_stream: TextIO | None = None


class LocalStack:
    def __init__(self, template_path: Path = ROOT / "template.yaml", receipts_dir: Path | None = None,
                 program_file: Path | None = None, retry_base_seconds: int = 1, api_port: int = 0,
                 log_stream: TextIO | None = None, parameter_overrides: dict[str, str] | None = None,
                 event_sources: bool = True, telegram_token: str | None = None,
                 telegram_api_url: str = "https://api.telegram.org"):
        self.moto = MotoServer.shared()
        self.template_path = template_path
        # Secret values are made up per run: nothing secret is ever written down. With a real bot's token the
        # functions talk to the real Bot API (its updates come by polling: loyalty_tools/local/polling.py).
        self.real_telegram = telegram_api_url if telegram_token else None
        self.bot_token = telegram_token or f"{BOT_USER['id']}:{secrets.token_urlsafe(26)}"
        self.webhook_secret = secrets.token_urlsafe(32)
        self.receipt_token = secrets.token_hex(16)
        self.api_key = secrets.token_urlsafe(24)  # the redemption API's usage-plan key
        self.crm_secret = secrets.token_urlsafe(32)  # Mindbox's secret key, or the webhook's signing secret
        self.stack_key = secrets.token_hex(32)  # keyed ids and erasure markers
        self.telegram = TelegramEmulator(self.bot_token, clock=self.now)
        self.receipts = ReceiptEmulator(self.receipt_token, receipts_dir)
        self.mindbox = MindboxEmulator(self.crm_secret, Mindbox(endpoint_id="local"))
        self.crm_webhook = WebhookReceiver(self.crm_secret)
        self.deploy = Deploy(program_file, receipts_dir, retry_base_seconds,
                             tuple(sorted((parameter_overrides or {}).items())), event_sources, log_stream)
        self._build(self.deploy)
        self.api = HttpApi(self.functions, port=api_port, api_key=self.api_key)
        self.functions.env_overrides["LINK_BASE_URL"] = self.api.url  # tracked links lead to this stack's API
        self.backlogged: set[str] = set()  # queues wait_idle does not wait for
        self._provisioned: tuple[Template, Resources] | None = None  # what _provision made, for which template
        self.started = False

    def _build(self, deploy: Deploy) -> None:
        """The template read with this deploy's parameters, its functions (cold) and their queues' pollers."""
        program = self.program = load_program(deploy.program_file or ROOT / "program" / "program.yaml")
        crm = program.crm
        # the community's invite link leads to its chat: opening it asks to join, as in Telegram
        self.telegram.state.invite_links = {program.community.invite_link: program.community.chat_id} \
            if program.community is not None else {}
        self.mindbox.config = crm.mindbox or Mindbox(endpoint_id="local")
        self.receipts.receipts_dir = deploy.receipts_dir
        self.template = Template(self.template_path, {
            "TelegramApiUrl": self.real_telegram or self.telegram.url,
            # the Mini App's WebApp script: the emulator's (its scanner, share sheet, home screen), unless a real
            # Telegram shows the app
            **({} if self.real_telegram else {"TelegramWebAppJs": f"{self.telegram.url}/js/telegram-web-app.js"}),
            "ReceiptServiceUrl": self.receipts.url,
            "CrmUrl": self.crm_webhook.url if crm.kind == "webhook" else self.mindbox.url,
            "RetryBaseSeconds": str(deploy.retry_base_seconds),
            **dict(deploy.parameter_overrides),
        }, endpoint_url=self.moto.url)
        env_overrides = {"PROGRAM_FILE": str(deploy.program_file)} if deploy.program_file else {}
        new_container()  # a new deploy: no setting, program or secret cached from the last
        self.functions = FunctionHost(self.template, self.moto.url, env_overrides, deploy.log_stream)
        functions = self.functions
        self.moto.counter.running = lambda: functions.running
        self.pollers = [QueuePoller(self.template, self.functions, spec.logical_id, source, self.moto.url)
                        for spec in self.functions.specs.values() for source in spec.queues]
        self.stream_pollers = [StreamPoller(self.template, self.functions, spec.logical_id, source, self.moto.url,
                                            self.moto)
                               for spec in self.functions.specs.values() for source in spec.streams]
        self.event_sources = deploy.event_sources

    @property
    def webhook_url(self) -> str:
        return self.api.url + WEBHOOK_PATH

    def start(self) -> LocalStack:
        for server in (self.telegram, self.receipts, self.mindbox, self.crm_webhook, self.api):
            server.start()
        self.telegram.state.miniapp_url = f"{self.api.url}/miniapp/"
        self.started = True
        self._empty()
        self._start_pollers()
        return self

    def redeploy(self, program_file: Path | None = None, receipts_dir: Path | None = None,
                 retry_base_seconds: int = 1, parameter_overrides: dict[str, str] | None = None,
                 event_sources: bool = True, log_stream: TextIO | None = None) -> LocalStack:
        """This running stack as a fresh one started with these options would be, without starting anything
        again: the servers stay up, the functions start cold when the deploy differs, and the tables, queues and
        emulators are emptied (`reset`). A test module takes the worker's stack this way in a fraction of a
        second; `park` it when done."""
        deploy = Deploy(program_file, receipts_dir, retry_base_seconds,
                        tuple(sorted((parameter_overrides or {}).items())), event_sources, log_stream)
        self.park()
        if deploy != self.deploy:
            self.deploy = deploy
            link_base = self.functions.env_overrides["LINK_BASE_URL"]
            self._build(deploy)
            self.functions.env_overrides["LINK_BASE_URL"] = link_base
            self.api.functions = self.functions
        self.backlogged.clear()
        self._empty()
        self._start_pollers()
        return self

    def park(self) -> None:
        """Stop consuming the queues (another stack of this process may use the same moto server meanwhile)."""
        every: list[Poller] = [*self.pollers, *self.stream_pollers]
        for poller in every:
            poller.stopping()
        for poller in every:
            poller.stop()

    def _start_pollers(self) -> None:
        if self.event_sources:
            every: list[Poller] = [*self.pollers, *self.stream_pollers]
            for poller in every:
                poller.start()

    def reset(self) -> None:
        """Back to a freshly started stack: empty tables and queues, emulators without history, the real time. The
        pollers (if running) stop meanwhile, so no batch in hand meets a queue that is gone."""
        polling = self.started and self.event_sources and any(poller.running for poller in self.pollers)
        if polling:
            self.park()
        self._empty()
        if polling:
            self._start_pollers()

    def _empty(self) -> None:
        self.travel(datetime.now(UTC))
        self.telegram.reset()
        self.receipts.reset()
        self.mindbox.reset()
        self.crm_webhook.reset()
        self._provision()

    def _provision(self) -> None:
        """moto emptied, then the template's tables, queues and secrets made: through the API the first time for each
        template, then as copies of what that made (the API's answers stay covered: every function still calls it)."""
        if self._provisioned is not None and self._provisioned[0] is self.template:
            self.moto.reset(to=self._provisioned[1])
        else:
            self.moto.reset()
            parameters = self.template.parameters
            provision(self.template, self.moto.url, {
                parameters["BotTokenSecretName"]: self.bot_token,
                parameters["WebhookSecretName"]: self.webhook_secret,
                parameters["ReceiptServiceTokenSecretName"]: self.receipt_token,
                parameters["CrmSecretName"]: self.crm_secret,
                parameters["StackKeySecretName"]: self.stack_key,
            })
            self._provisioned = (self.template, self.moto.keep())
        # What an operator does after `sam deploy`: point the bot at the webhook, with the secret token.
        if self.real_telegram is None:  # a real bot is polled instead: Telegram cannot reach a laptop's webhook
            self.bot_api("setWebhook", url=self.webhook_url, secret_token=self.webhook_secret)

    def now(self) -> datetime:
        """The stack's clock: the one its functions and the Telegram emulator read."""
        from loyalty import clock  # the package the functions import (a new stack imports it afresh)

        return clock.now()

    def travel(self, to: datetime) -> None:
        """Move the stack's clock to `to` (from there it runs on): weeks pass in a moment, for the functions,
        the schedules and the chat alike."""
        from loyalty import clock

        clock.travel(to)

    def run_schedules(self, at: datetime | None = None) -> dict[str, Any]:
        """What every schedule of the template delivers at `at` (the stack's now by default), invoked once;
        schedules never fire by themselves here. Returns each function's result."""
        moment = at or self.now()
        return {spec.logical_id: self.functions.invoke(spec.logical_id,
                                                       scheduled_event(f"{spec.logical_id}-{source.name}", moment))
                for spec in self.functions.specs.values() for source in spec.schedules}

    def poller(self, queue: str) -> QueuePoller:
        return next(poller for poller in self.pollers if poller.source.queue == queue)

    def stop(self) -> None:
        self.park()
        for server in (self.api, self.crm_webhook, self.mindbox, self.receipts, self.telegram):
            server.stop()

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def bot_api(self, method: str, **params: Any) -> Any:
        request = urllib.request.Request(
            f"{self.telegram.url}/bot{self.bot_token}/{method}", data=json.dumps(params).encode(),
            headers={"Content-Type": "application/json"}, method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)["result"]

    def bot_api_calls(self) -> list[dict[str, Any]]:
        """Every Bot API call the bot made (and the methods it ran in its webhook answers), oldest first."""
        with urllib.request.urlopen(f"{self.telegram.url}/emulator/calls", timeout=10) as response:
            calls: list[dict[str, Any]] = json.load(response)
        return calls

    def aws(self, service: str) -> Any:
        """A boto3 client on the local stack's moto server (for tests and operators)."""
        return plumbing_client(service, self.moto.url)

    def operator(self, *args: str) -> tuple[int, str, str]:
        """The operator's command (`loyalty …`) against this stack, run in this process through the CLI's own
        `main(argv)`: (exit code, out, err). It sees what an operator's shell would (this stack's endpoint and
        credentials, the repository as its working directory), and no function runs meanwhile: they share the
        process's environment."""
        from loyalty_tools.cli import captured

        with self.as_operator():
            return captured(list(args))

    def as_operator(self) -> contextlib.AbstractContextManager[None]:
        """Within it, this process is an operator's shell on this stack (its endpoint and credentials), and no
        function runs: what `operator` runs a command in, for a caller that uses the operator's modules itself."""
        return self.functions.exclusive(self._operator_environment(os.environ))

    def operator_process(self, *args: str, timeout: float = 600) -> tuple[int, str, str]:
        """The same command in its own process, as an operator runs it (`python -m loyalty_tools.cli …`)."""
        env = {**self._operator_environment(os.environ),
               "PYTHONPATH": os.pathsep.join(str(ROOT / part) for part in ("layers/loyalty", "infra", "."))}
        done = subprocess.run([sys.executable, "-m", "loyalty_tools.cli", *args], capture_output=True, text=True,  # noqa: S603 (our own CLI)
                              env=env, cwd=ROOT, timeout=timeout, check=False)
        return done.returncode, done.stdout, done.stderr

    def _operator_environment(self, shell: Mapping[str, str]) -> dict[str, str]:
        return {**shell, **self.client_environment()}

    def client_environment(self) -> dict[str, str]:
        """What a boto3 client needs to reach this stack's AWS: its endpoint, credentials and region."""
        return {name: self.functions.base_env[name] for name in (
            "AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION")}

    def queue_depth(self, logical_id: str) -> int:
        """The messages `logical_id`'s queue holds: visible, in flight or delayed (a deferred one is work to do)."""
        return self.moto.queue_length(self.template.queue_name(logical_id))

    def wait_idle(self, timeout: float = 60.0, ceiling: float = 900.0) -> None:
        """Return once every consumed queue is empty (but the `backlogged` ones: a CRM kept down on purpose) and no
        function is running, three looks in a row. It waits as long as the stack gets on with its work (a function
        finished within the last `timeout` seconds), so a busy machine only makes it slower, but `ceiling` seconds at
        most; then it raises, naming what is still busy."""
        started = progressed = time.monotonic()
        finished = self.functions.finished
        quiet = 0
        busy: list[str] = []
        while True:
            now = time.monotonic()
            if self.functions.finished != finished:
                finished, progressed = self.functions.finished, now
            if now - progressed > timeout or now - started > ceiling:
                raise TimeoutError(f"local stack still busy after {now - started:.0f} s, {now - progressed:.0f} s "
                                   f"of them with no function finishing: {', '.join(self.busy() or busy)}")
            busy = self.busy(first_only=True)  # one request while busy, not one per queue: moto has work to do
            quiet = 0 if busy else quiet + 1
            if quiet >= 3:
                return
            time.sleep(0.05)

    def busy(self, first_only: bool = False) -> list[str]:
        """What is still at work: the function running now, and each consumed queue holding messages (with its
        count: visible, in flight or delayed); with `first_only`, the first of them found."""
        found = [f"{self.functions.running} running"] if self.functions.running else []
        for stream in self.stream_pollers:
            if found and first_only:
                break
            if stream.running and stream.pending():
                found.append(f"the stream of {stream.source.table} holds records")
        for queue in dict.fromkeys(p.source.queue for p in self.pollers if p.source.queue not in self.backlogged):
            if found and first_only:
                break
            if depth := self.queue_depth(queue):
                found.append(f"{queue} holds {depth}")
        return found

    def dead_letters(self, logical_id: str) -> list[dict[str, Any]]:
        """Messages in a dead-letter queue, with their attributes (reason, source)."""
        sqs = self.aws("sqs")
        response = sqs.receive_message(
            QueueUrl=self.template.queue_url(logical_id), MaxNumberOfMessages=10, VisibilityTimeout=0,
            MessageAttributeNames=["All"], MessageSystemAttributeNames=["All"],
        )
        return [{"body": m["Body"], "attributes": {k: v.get("StringValue") for k, v in
                                                   m.get("MessageAttributes", {}).items()},
                 "receive_count": int(m["Attributes"]["ApproximateReceiveCount"])}
                for m in response.get("Messages", [])]
