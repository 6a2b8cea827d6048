"""The program file: YAML read and validated into the domain's `Program`, once per container.

A bad file fails loudly with the path of the bad key: at `sam build`, which validates the file to write its snapshot
(layers/loyalty/Makefile), and at load wherever there is no snapshot.

The snapshot is the program as validated at build, pickled beside the code that validated it (in the same layer), and
keyed by the SHA-256 of the file's bytes. A cold start that finds it unpickles the program (half a millisecond) instead
of importing PyYAML, parsing the file and building the validators of 80-odd models (30 ms, a quarter of `import
boto3`). A snapshot of another file (a build that cached the layer while the program changed) is not used: the file
is read as ever, with a warning. It is as trusted as the code beside it: whoever can write it can write the code.

    python -m loyalty.adapters.program_file PROGRAM_FILE SNAPSHOT   (the build's step; validates, then writes)
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from loyalty.domain.messages import use_brand_texts
from loyalty.domain.program import Program
from loyalty.observability import logger
from loyalty.validation import problems

_SNAPSHOT_FORMAT = "loyalty-program-snapshot/1"


class ProgramError(ValueError):
    """The program file is missing or invalid; the message names the bad key."""


def load_program(path: str | Path) -> Program:
    return _validated(_read(path), path)


def _read(path: str | Path) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as error:
        raise ProgramError(f"cannot read program file {path}: {error}") from error


def _validated(text: bytes, path: str | Path) -> Program:
    import yaml  # only where there is no snapshot: the cold start of a built function never needs it

    # libyaml's safe loader where PyYAML's wheel carries it (each of Lambda's does): ten times the pure-Python one's
    # pace.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        document = yaml.load(text.decode("utf-8"), Loader=loader)  # noqa: S506 - a safe loader
    except (UnicodeDecodeError, yaml.YAMLError) as error:
        raise ProgramError(f"cannot read program file {path}: {error}") from error
    try:
        return Program.model_validate(document)
    except ValidationError as error:
        raise ProgramError(f"program file {path} is invalid: {problems(error, '(root)')}") from error


def write_snapshot(path: str | Path, snapshot: str | Path) -> Program:
    """The program file validated, and pickled to `snapshot` under its bytes' digest."""
    text = _read(path)
    program = _validated(text, path)
    Path(snapshot).write_bytes(pickle.dumps((_SNAPSHOT_FORMAT, _digest(text), program), protocol=5))
    return program


def _digest(text: bytes) -> str:
    return hashlib.sha256(text).hexdigest()


def _snapshot_of(text: bytes, snapshot: str) -> Program | None:
    """The snapshot's program if it is of exactly this file's bytes; None when there is none or it is another's."""
    try:
        kept: Any = pickle.loads(Path(snapshot).read_bytes())  # noqa: S301 - built with the code beside it (docstring)
    except FileNotFoundError:
        return None
    except Exception:  # whatever a damaged snapshot raises, the file is still there to read
        kept = None
    if not (isinstance(kept, tuple) and len(kept) == 3 and kept[0] == _SNAPSHOT_FORMAT
            and isinstance(kept[2], Program)):
        logger.warning("program snapshot unreadable; the program file is read instead", extra={"snapshot": snapshot})
        return None
    if kept[1] != _digest(text):
        logger.warning("program snapshot is of another program file; the file is read instead",
                       extra={"snapshot": snapshot})
        return None
    return kept[2]


@cache
def cached_program(path: str, snapshot: str = "") -> Program:
    """The program a function runs with: one read per container (the file ships in a read-only layer and never
    changes under us), from the build's snapshot where it has one. In Lambda it refuses what is only safe offline,
    so the function does not start."""
    text = _read(path)
    program = (_snapshot_of(text, snapshot) if snapshot else None) or _validated(text, path)
    use_brand_texts(program.bot.texts)
    if program.receipts.accept_unverified_files and os.environ.get("AWS_EXECUTION_ENV", "").startswith("AWS_Lambda"):
        raise ProgramError(f"program file {path}: receipts.accept_unverified_files lets uploaded receipt files earn "
                           "without the receipt service's confirmation; it is for offline use only, and a function "
                           "in Lambda does not start with it on")
    return program


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python -m loyalty.adapters.program_file PROGRAM_FILE SNAPSHOT")
    try:
        built = write_snapshot(sys.argv[1], sys.argv[2])
    except ProgramError as error:
        sys.exit(f"program snapshot not written: {error}")
    print(f"{sys.argv[2]}: the program validated, {len(built.levels)} levels, kept for the cold starts")
