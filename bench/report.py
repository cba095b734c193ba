"""The one writer of docs/BENCHMARKS.md: each benchmark owns a marked section and replaces only that.

A section is the text between ``<!-- {name}:begin -->`` and ``<!-- {name}:end -->``. Writing a section
replaces an earlier one of the same name, or appends it when the file has none; every other line of the
file is kept as it was.

    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "BENCHMARKS.md"
    >>> _ = path.write_text("# Benchmarks\\nnotes kept\\n")
    >>> write_section(path, "demo", "| a | b |")
    >>> write_section(path, "demo", "| c | d |")
    >>> print(path.read_text())
    # Benchmarks
    notes kept
    <BLANKLINE>
    <!-- demo:begin -->
    | c | d |
    <!-- demo:end -->
    <BLANKLINE>
"""
from __future__ import annotations

from pathlib import Path

__all__ = ["markers", "section", "write_section"]


def markers(name: str) -> tuple[str, str]:
    """The begin and end markers of section ``name``."""
    return f"<!-- {name}:begin -->", f"<!-- {name}:end -->"


def section(name: str, body: str) -> str:
    """``body`` between the markers of section ``name``."""
    begin, end = markers(name)
    return f"{begin}\n{body.strip(chr(10))}\n{end}"


def write_section(path: Path | str, name: str, body: str) -> None:
    """Replace section ``name`` of ``path`` with ``body`` (append it if absent); keep everything else."""
    path = Path(path)
    begin, end = markers(name)
    block = section(name, body)
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    start, stop = text.find(begin), text.find(end)
    if 0 <= start < stop:
        text = text[:start] + block + text[stop + len(end):]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
