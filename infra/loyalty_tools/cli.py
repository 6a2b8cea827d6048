"""`loyalty`: the operator's command line."""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
import traceback

from loyalty_tools.commands import (
    audit,
    campaign,
    crm,
    dlq,
    draw,
    fraud,
    ledger,
    local,
    members,
    openapi,
    receipt,
    report,
)

GROUPS = (local, receipt, ledger, members, campaign, crm, fraud, draw, report, audit, dlq, openapi)


def main(argv: list[str] | None = None) -> int:
    """Run `loyalty ARGV…` and return its exit code: 0 done, 1 a check failed, 2 the operator's mistake, said in
    one line on stderr (a bug still raises, with its traceback)."""
    parser = argparse.ArgumentParser(prog="loyalty", description="Loyalty Everywhere operator tools")
    commands = parser.add_subparsers(dest="command", required=True)
    for group in GROUPS:
        group.register(commands)
    args = parser.parse_args(argv)
    try:
        return int(args.run(args))
    except Exception as error:
        problem = _one_line(error)
        if problem is None:
            raise
        print(f"error: {problem}", file=sys.stderr)
        return 2


def captured(argv: list[str]) -> tuple[int, str, str]:
    """`main(argv)` run in this process with its output captured: (exit code, out, err), as a shell would see them;
    a bug's traceback goes to err, with exit code 1."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exit:  # argparse's answer to a wrong command line
            code = exit.code if isinstance(exit.code, int) else int(exit.code is not None)
        except Exception:
            traceback.print_exc(file=err)
            code = 1
    return code, out.getvalue(), err.getvalue()


def _one_line(error: Exception) -> str | None:
    """What an operator reads instead of a traceback, for the errors they can fix themselves (None: a bug)."""
    from botocore.exceptions import (
        ClientError,
        EndpointConnectionError,
        NoCredentialsError,
        NoRegionError,
        PartialCredentialsError,
    )

    from loyalty.adapters.program_file import ProgramError
    from loyalty.domain.errors import StorageUnavailable

    if isinstance(error, NoRegionError):
        return "no AWS region: set AWS_DEFAULT_REGION (eu-central-1, say)"
    if isinstance(error, (NoCredentialsError, PartialCredentialsError)):
        return "no AWS credentials: set AWS_PROFILE or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
    if isinstance(error, StorageUnavailable):  # the adapters' word for AWS out of reach
        error = error.__cause__ if isinstance(error.__cause__, Exception) else error
    if isinstance(error, (EndpointConnectionError, StorageUnavailable)):
        where = error.kwargs.get("endpoint_url", "AWS") if isinstance(error, EndpointConnectionError) else "AWS"
        return f"cannot reach {where}: is the stack running, and AWS_ENDPOINT_URL (if set) right?"
    if isinstance(error, ClientError):
        code, message = error.response["Error"].get("Code", ""), error.response["Error"].get("Message", "")
        return f"AWS refused: {code}: {message} (check the table names and the credentials' permissions)"
    from loyalty_tools.dlq_cli import UnknownQueue

    if isinstance(error, (ProgramError, FileNotFoundError, UnknownQueue)):
        return str(error)
    return None


if __name__ == "__main__":
    sys.exit(main())
