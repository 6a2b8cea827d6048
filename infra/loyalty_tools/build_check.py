"""`make check-template`'s last step: what `sam build` produced, checked as Lambda will load it.

- Each function with its layers fits Lambda's 250 MB unzipped (the function's code and every layer together).
- Every native library in the build is built for aarch64 (the template deploys arm64).
- Every module of the layer is compiled for Python 3.12, checked by hash and never against its source (Lambda's /opt
  is read-only: a module shipped without it is compiled again at every cold start; layers/loyalty/Makefile).
- The layer carries the program's snapshot (/opt/program.snapshot: adapters/program_file.py), of this program file.
- Each function's handler module imports under Python 3.12 with nothing on its path but its own code and the layer,
  in exactly its template environment (its literal values, dummies for intrinsics), as Lambda's cold start does, and
  takes its program from the snapshot: PyYAML is not imported.

This machine is x86_64, so the aarch64 libraries cannot be loaded here: the import runs on the layer as built, its
native packages swapped for the same pinned versions' x86_64 wheels (`twin`). Everything else is the build's.

    python -m loyalty_tools.build_check [BUILD_DIR]   (default .local/sam-build)
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from pathlib import Path

from loyalty_tools.local.runtime import FunctionHost
from loyalty_tools.local.template import Template

ROOT = Path(__file__).resolve().parents[2]
LAMBDA_UNZIPPED_LIMIT = 250 * 1024 * 1024
AARCH64 = 183  # ELF e_machine
PYTHON_312 = "3.12"
_ELF = b"\x7fELF"


def tree_bytes(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file() and not path.is_symlink())


def elf_machine(path: Path) -> int | None:
    """The ELF machine of a file (None: not an ELF file)."""
    with path.open("rb") as file:
        header = file.read(20)
    if len(header) < 20 or not header.startswith(_ELF):
        return None
    return int.from_bytes(header[18:20], "little" if header[5] == 1 else "big")


def foreign_libraries(folder: Path) -> list[str]:
    """Native files under `folder` not built for aarch64."""
    return [str(path.relative_to(folder)) for path in sorted(folder.rglob("*"))
            if path.is_file() and not path.is_symlink() and elf_machine(path) not in (None, AARCH64)]


@functools.cache
def python_312() -> str:
    """Python 3.12's interpreter itself: python3.12 on the path may be pyenv's shim (PYENV_VERSION=3.12.1 here), which
    needs this environment to pick it; the functions are run in theirs alone."""
    found = shutil.which("python3.12")
    if found is None:
        raise SystemExit("python3.12 is needed for the import check (pyenv: PYENV_VERSION=3.12.1)")
    return subprocess.run([found, "-c", "import sys; print(sys.executable)"], capture_output=True, text=True,
                          check=True).stdout.strip()


def uncompiled(layer: Path) -> list[str]:
    """The layer's modules that Python 3.12 would compile at a cold start: no cpython-312 file beside them, or one that
    is checked against its source (PEP 552: a pyc's flags, after its magic, 1 for a hash never checked)."""
    missing = []
    for source in (layer / "python").rglob("*.py"):
        compiled = source.parent / "__pycache__" / f"{source.stem}.cpython-312.pyc"
        if not compiled.is_file() or int.from_bytes(compiled.read_bytes()[4:8], "little") != 1:
            missing.append(str(source.relative_to(layer)))
    return missing


def twin_layer(layer: Path, into: Path) -> Path:
    """The built layer for this machine: its pinned requirements as x86_64 wheels for Python 3.12, beside everything
    else the build put in it (our own package) copied as built."""
    python = into / "python"
    if python.exists():
        shutil.rmtree(python)
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--only-binary=:all:",
                    "--python-version", PYTHON_312, "--implementation", "cp",
                    "--platform", "manylinux2014_x86_64", "--platform", "manylinux_2_28_x86_64",
                    "--target", str(python), "-r", str(layer / "python" / "requirements.txt")], check=True)
    for entry in (layer / "python").iterdir():
        if not (python / entry.name).exists():
            (shutil.copytree if entry.is_dir() else shutil.copy2)(entry, python / entry.name)
    return python


def import_failures(build: Path, layer_path: Path) -> dict[str, str]:
    """Each built function's handler module imported by Python 3.12 in a fresh process: its error, if any."""
    template = Template(build / "template.yaml")
    host = FunctionHost(template, "http://127.0.0.1:9")
    failures = {}
    for name, spec in host.specs.items():
        code = build / name
        module = spec.handler.rpartition(".")[0]
        env = {key: value for key, value in host.environment(name).items() if key not in os.environ}
        env |= {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1"}
        # -S: no site-packages of this machine's Python; the path is Lambda's: the function's code, then the layer.
        script = (f"import sys; sys.path[:0] = [{str(code)!r}, {str(layer_path)!r}]\n"
                  f"import {module}\n"
                  "if 'yaml' in sys.modules: sys.exit('read the program file, not the build snapshot of it')\n")
        done = subprocess.run([python_312(), "-S", "-c", script], env=env, capture_output=True, text=True)
        if done.returncode != 0:
            failures[name] = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "exit code"
    return failures


def main(argv: list[str]) -> int:
    build = Path(argv[0]) if argv else ROOT / ".local" / "sam-build"
    layers = [folder for folder in build.iterdir() if folder.is_dir() and folder.name.endswith("Layer")]
    functions = [folder for folder in build.iterdir() if folder.is_dir() and folder not in layers]
    layer_bytes = sum(tree_bytes(folder) for folder in layers)
    program_layer = ROOT / "program"  # the ProgramLayer is deployed as it is (no build method)
    layer_bytes += tree_bytes(program_layer)
    problems = []
    biggest = max(functions, key=tree_bytes)
    total = layer_bytes + tree_bytes(biggest)
    print(f"layers {layer_bytes / 2**20:.1f} MB; with the largest function ({biggest.name}) "
          f"{total / 2**20:.1f} MB of Lambda's {LAMBDA_UNZIPPED_LIMIT / 2**20:.0f} MB unzipped")
    if total > LAMBDA_UNZIPPED_LIMIT:
        problems.append(f"{biggest.name} with its layers is {total / 2**20:.1f} MB, over Lambda's 250 MB")
    foreign = [f"{folder.name}/{name}" for folder in build.iterdir() if folder.is_dir()
               for name in foreign_libraries(folder)]
    natives = sum(1 for path in build.rglob("*.so*") if path.is_file() and elf_machine(path) == AARCH64)
    print(f"{natives} native libraries, all aarch64" if not foreign else f"not aarch64: {', '.join(foreign)}")
    problems += [f"not built for aarch64: {name}" for name in foreign]
    loyalty_layer = build / "LoyaltyLayer"
    missing = uncompiled(loyalty_layer)
    modules = sum(1 for _ in (loyalty_layer / "python").rglob("*.py"))
    print(f"{modules - len(missing)} of {modules} modules of the layer compiled for Python {PYTHON_312}, unchecked")
    problems += [f"not compiled for Python {PYTHON_312}: {len(missing)} modules, e.g. {', '.join(missing[:3])}"
                 ] if missing else []
    if not (loyalty_layer / "program.snapshot").is_file():
        problems.append("no program.snapshot in LoyaltyLayer: every cold start would parse the program file")
    twin = twin_layer(loyalty_layer, ROOT / ".local" / "layer-x86_64-twin")
    failures = import_failures(build, twin)
    print(f"{len(functions) - len(failures)} of {len(functions)} functions import under Python {PYTHON_312} "
          "with only their code, the layer and their template environment")
    problems += [f"{name} does not import under Python {PYTHON_312}: {error}" for name, error in failures.items()]
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
