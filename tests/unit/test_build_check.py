"""The build check tells an aarch64 library from another machine's, as Lambda's arm64 runtime would."""

from pathlib import Path

from loyalty_tools.build_check import AARCH64, elf_machine, foreign_libraries


def _elf(path: Path, machine: int) -> Path:
    # e_ident: magic, 64-bit, little-endian, version; then e_type (2 bytes) and e_machine at offset 18.
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x7fELF\x02\x01\x01" + b"\0" * 9 + (3).to_bytes(2, "little") + machine.to_bytes(2, "little")
                     + b"\0" * 40)
    return path


def test_an_elf_file_names_its_machine_and_anything_else_is_not_native(tmp_path: Path) -> None:
    assert elf_machine(_elf(tmp_path / "a.so", AARCH64)) == AARCH64
    assert elf_machine(_elf(tmp_path / "b.so", 62)) == 62  # x86-64
    (tmp_path / "c.py").write_text("print('not a library')\n")
    assert elf_machine(tmp_path / "c.py") is None


def test_only_libraries_for_another_machine_are_foreign(tmp_path: Path) -> None:
    _elf(tmp_path / "pydantic_core" / "_core.cpython-312-aarch64-linux-gnu.so", AARCH64)
    _elf(tmp_path / "pillow.libs" / "libjpeg.so.62", 62)
    (tmp_path / "yaml" / "__init__.py").parent.mkdir()
    (tmp_path / "yaml" / "__init__.py").write_text("")
    assert foreign_libraries(tmp_path) == ["pillow.libs/libjpeg.so.62"]
