"""lossviz.csvdata.read_csv against a corpus of odd and hostile uploads.

Each file is read as expected or refused with a message a person understands, within a bound on CPU
time, and nothing but ValueError ever escapes. The bound (3 s of CPU, the hard limit of a page open in
lossviz.ui.budget) is a robustness limit (one upload must not freeze every session of the server, as
``csv.Sniffer`` did for 18 s on 32 KB of quotes), not a speed benchmark: a 20 MB upload, the largest
allowed, reads in 0.9-1.6 s on this machine's slower CPU (an AMD EPYC without AVX-512; 1.5 s was the
bound when it read in under 1 s). Files are built inside the test, so only one large file is alive at a
time.
"""
from __future__ import annotations

import codecs
import re
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lossviz import csvdata
from lossviz.ui import budget

CPU_BOUND = 2 * budget.SECONDS
MB = csvdata.MB  # 10**6 bytes, as the uploader and the limit count it
LABELS = ["été", "naïve"]


def table(labels=("a", "b"), rows: int = 12, sep: str = ",", end: str = "\n") -> str:
    """A small good table: x = 0..rows-1, label alternating over ``labels``."""
    return f"x{sep}label{end}" + "".join(f"{i}{sep}{labels[i % len(labels)]}{end}" for i in range(rows))


@dataclass(frozen=True)
class Read:
    """The file is read: these columns, this many rows, and (optionally) a check on the table."""

    columns: list[str]
    rows: int = 12
    check: Callable[[pd.DataFrame], None] | None = None


@dataclass(frozen=True)
class Refused:
    """The file is refused with a ValueError whose message matches ``words``."""

    words: str


@dataclass(frozen=True)
class Either:
    """Read or refused, whichever: only the general guarantees are checked (no crash, bound, clarity)."""


def _labels_are(expected):
    def check(frame):
        assert list(frame["label"]) == [expected[i % len(expected)] for i in range(len(frame))]
    return check


def _x_is(values):
    def check(frame):
        np.testing.assert_allclose(frame["x"].to_numpy(dtype=float), values)
    return check


def _random_bytes(n: int, low: int = 0, seed: int = 0) -> bytes:
    return np.random.default_rng(seed).integers(low, 256, n, dtype=np.uint8).tobytes()


def _quote_soup(n: int, seed: int = 0) -> bytes:
    """Random quotes, separators and line breaks: the shapes that defeat regular-expression sniffers."""
    alphabet = np.frombuffer(b'"""\',,;\n\ra', dtype=np.uint8)
    return np.random.default_rng(seed).choice(alphabet, n).tobytes()


def _wide(columns: int, rows: int, cell: bytes = b"1") -> bytes:
    header = ",".join(f"c{i}" for i in range(columns)) + "\n"
    return header.encode() + (b",".join([cell] * columns) + b"\n") * rows


GOOD = table().encode()
MAX_ROWS = csvdata.MAX_ROWS


def _third_column(name: str) -> bytes:
    """GOOD with a third column called ``name``."""
    return (f"x,label,{name}\n" + "".join(f"{i},{'ab'[i % 2]},1\n" for i in range(12))).encode()

# name -> (a function building the file, what must happen)
CORPUS: dict[str, tuple[Callable[[], bytes], Read | Refused | Either]] = {
    # ---- encodings
    "utf8_accents": (lambda: table(LABELS).encode(), Read(["x", "label"], check=_labels_are(LABELS))),
    "utf8_bom": (lambda: codecs.BOM_UTF8 + table(LABELS).encode(),
                 Read(["x", "label"], check=_labels_are(LABELS))),
    "utf16_le_bom": (lambda: codecs.BOM_UTF16_LE + table(LABELS).encode("utf-16-le"),
                     Read(["x", "label"], check=_labels_are(LABELS))),
    "utf16_be_bom": (lambda: codecs.BOM_UTF16_BE + table(LABELS).encode("utf-16-be"),
                     Read(["x", "label"], check=_labels_are(LABELS))),
    "utf16_le_no_bom": (lambda: table().encode("utf-16-le"), Read(["x", "label"], check=_labels_are("ab"))),
    "utf16_be_no_bom": (lambda: table().encode("utf-16-be"), Read(["x", "label"], check=_labels_are("ab"))),
    "latin1": (lambda: table(LABELS, sep=";").encode("latin-1"),
               Read(["x", "label"], check=_labels_are(LABELS))),
    "windows_1252": (lambda: ("x,value,label\n" + "".join(f"{i},{i * 1000.25},€5 “q”\n" for i in range(12)))
                     .encode("cp1252"), Read(["x", "value", "label"], check=_labels_are(["€5 “q”"]))),
    "latin1_name": (lambda: ("x,durée\n" + "".join(f"{i},{i}\n" for i in range(12))).encode("latin-1"),
                    Read(["x", "durée"])),
    "damaged_utf8": (lambda: table(LABELS).encode() + "x,é\n".encode("latin-1"),
                     Refused(r"not UTF-8 text: byte 0xE9 on line 14 cannot be decoded")),
    "bom_then_latin1": (lambda: codecs.BOM_UTF8 + table(LABELS).encode("latin-1"),
                        Refused(r"not UTF-8 text: byte 0xE9 on line 2")),
    "cyrillic_cp1251": (lambda: ("Имя,Значение\n" + "Москва,1\n" * 12).encode("cp1251"),
                        Refused(r"neither UTF-8 nor Latin-1 text \(\d+% of its bytes are outside ASCII\)")),
    "shift_jis": (lambda: ("名前,値\n" + "東京都,1\n" * 12).encode("shift_jis"),
                  Refused(r"neither UTF-8 nor Latin-1 text")),
    "high_bytes_junk": (lambda: _random_bytes(8192, low=0x80), Refused(r"neither UTF-8 nor Latin-1 text")),
    "utf16_odd_length": (lambda: codecs.BOM_UTF16_LE + table().encode("utf-16-le") + b"\x00",
                         Refused(r"starts like UTF-16 text but byte \d+ cannot be decoded")),
    "utf16_lone_surrogate": (lambda: codecs.BOM_UTF16_LE + "x,label\n1,".encode("utf-16-le") + b"\x00\xd8"
                             + table().encode("utf-16-le"), Refused(r"starts like UTF-16 text")),
    "utf16_with_nul": (lambda: codecs.BOM_UTF16_LE + (table() + "\x00").encode("utf-16-le"),
                       Refused(r"binary data \(a NUL byte")),
    # ---- line endings
    "lf": (lambda: GOOD, Read(["x", "label"], check=_labels_are("ab"))),
    "crlf": (lambda: GOOD.replace(b"\n", b"\r\n"), Read(["x", "label"], check=_labels_are("ab"))),
    "cr_only": (lambda: GOOD.replace(b"\n", b"\r"), Read(["x", "label"], check=_labels_are("ab"))),
    "mixed": (lambda: table(end="\n").encode().replace(b"\n3", b"\r3").replace(b"\n5", b"\r\n5"),
              Read(["x", "label"], check=_x_is(np.arange(12)))),
    "cr_only_quoted_line_break": (
        lambda: ("x,label\r" + "".join(f'{i},"line\rbreak"\r' for i in range(12))).encode(),
        Read(["x", "label"], check=_labels_are(["line\rbreak"]))),
    "no_final_line_break": (lambda: GOOD.rstrip(b"\n"), Read(["x", "label"], check=_labels_are("ab"))),
    "blank_lines_everywhere": (lambda: b"\n\r\n\r" + GOOD.replace(b"\n", b"\n\n\r\n") + b"\n \n",
                               Read(["x", "label"], check=_x_is(np.arange(12)))),
    "cr_cr_lf": (lambda: GOOD.replace(b"\n", b"\r\r\n"), Read(["x", "label"], check=_x_is(np.arange(12)))),
    # ---- quote storms
    "sniffer_storm_32kb": (lambda: b"\",'" * 16000,
                           Refused(r"has (\d+|more than 1000) columns; at most 1000")),
    "sniffer_storm_semicolons": (lambda: b"\";'" * 16000, Refused(r"columns; at most 1000 are read")),
    "sniffer_storm_48mb": (lambda: b"\",'" * (16 * MB), Refused(r"Line 1 is longer than 1 MB")),
    "storm_lines_48mb": (lambda: b"\",'\n" * (12 * MB), Refused(r"12,000,000 lines; at most 4,000,000")),
    # Each record is '",\'' + line break + '",' + "'": two fields over two lines.
    "storm_short_lines": (lambda: b"\",'\n" * 100_000, Read([",'", "'"], rows=49_999)),
    "only_quotes_40mb": (lambda: b'"' * (40 * MB), Refused(r"Line 1 is longer than 1 MB")),
    "only_quotes_100kb": (lambda: b'"' * 100_000, Refused(r"Only one column was found")),
    "doubled_quotes_and_commas": (lambda: b'"",' * 300_000, Refused(r"columns; at most 1000 are read")),
    "quote_soup_1mb": (lambda: _quote_soup(MB), Either()),
    "quote_soup_40mb": (lambda: _quote_soup(40 * MB, seed=1), Either()),
    "unclosed_quote": (lambda: b'x,label\n"' + GOOD[8:], Refused(r"quoted value is never closed")),
    "unclosed_quote_at_end": (lambda: GOOD + b'1,"open', Refused(r"quoted value is never closed")),
    "escaped_quotes_valid": (
        lambda: ("x,label\n" + "".join(f'{i},"a ""quoted"", label"\n' for i in range(12))).encode(),
        Read(["x", "label"], check=_labels_are(['a "quoted", label']))),
    # ---- huge and long cells
    "cell_40mb_quoted": (lambda: b'x,label\n1,"' + b"y" * (40 * MB) + b'"\n' + GOOD[8:],
                         Refused(r"Line 2 is longer than 1 MB")),
    "cell_40mb_unquoted": (lambda: b"x,label\n" + GOOD[8:] + b"1," + b"y" * (40 * MB) + b"\n",
                           Refused(r"Line 14 is longer than 1 MB")),
    "cell_2mb_over_many_lines": (lambda: b'x,label\n1,"' + (b"y" * 99 + b"\n") * 20_000 + b'"\n' + GOOD[8:],
                                 Refused(r"Column 'label' holds a value of 2,000,000 characters on data "
                                         r"row 1 \('yyyy")),
    "cell_201_chars": (lambda: GOOD + b"12," + b"z" * 201 + b"\n",
                       Refused(r"Column 'label' holds a value of 201 characters on data row 13")),
    "cell_200_chars": (lambda: GOOD + b"12," + b"z" * 200 + b"\n", Read(["x", "label"], rows=13)),
    "name_201_chars": (lambda: GOOD.replace(b"label", b"n" * 201, 1),
                       Refused(r"Column 2's name is 201 characters long \('nnnn")),
    "name_200_chars": (lambda: GOOD.replace(b"label", b"n" * 200, 1), Read(["x", "n" * 200])),
    # ---- many classes (read here; class_labels refuses them, see the test below)
    "distinct_labels_1m": (lambda: b"x,label\n" + b"".join(b"%d,c%d\n" % (i, i) for i in range(MAX_ROWS)),
                           Read(["x", "label"], rows=1_000_000)),
    # ---- many columns and cells
    "columns_1000": (lambda: _wide(1000, 12), Read([f"c{i}" for i in range(1000)])),
    "columns_1001": (lambda: _wide(1001, 12), Refused(r"The file has 1001 columns; at most 1000 are read")),
    "header_500k_fields": (lambda: b"," * 500_000 + b"\n" + GOOD,
                           Refused(r"more than 1000 columns; at most 1000 are read")),
    "cells_at_limit": (lambda: _wide(1000, 5000), Read([f"c{i}" for i in range(1000)], rows=5000)),
    "cells_over_limit": (lambda: _wide(1000, 5001),
                         Refused(r"more than 5,000 data rows of 1000 columns; at most 5,000,000 values")),
    "rows_over_limit": (lambda: b"a,b\n" + b"1,2\n" * (MAX_ROWS + 1),
                        Refused(r"more than 1,000,000 data rows")),
    "lines_over_limit": (lambda: b"a,b\n" + b"1,2\n" * 5_000_000,
                         Refused(r"5,000,001 lines; at most 4,000,000 are read")),
    "first_row_1m_fields": (lambda: b"a,b\n" + b"," * 1_000_000 + b"\n" + GOOD[8:],
                            Refused(r"first data row has more fields than the header has names "
                                    r"\(1000001 against 2, line 2\)")),
    "later_row_1m_fields": (lambda: GOOD + b"," * 1_000_000 + b"\n",
                            Refused(r"Line 14 has 1000001 fields but the header has 2")),
    "trailing_separators": (lambda: b"x,label\n" + b"".join(b"%d,a,\n" % i for i in range(12)),
                            Refused(r"first data row has more fields than the header")),
    # the heaviest shapes within the caps: a text value after 5 million numbers, in Latin-1 or UTF-16
    "latin1_numbers_then_text": (lambda: _wide(1000, 4999, b"1.5") + ("zé," * 999 + "zé\n").encode("latin-1"),
                                 Read([f"c{i}" for i in range(1000)], rows=5000)),
    "utf16_text_cells": (lambda: (",".join(f"c{i}" for i in range(1000)) + "\n"
                                  + ("ab," * 999 + "ab\n") * 5000).encode("utf-16"),
                         Read([f"c{i}" for i in range(1000)], rows=5000)),
    # ---- Excel's separator line
    "sep_comma": (lambda: b"sep=,\n" + GOOD, Read(["x", "label"], check=_labels_are("ab"))),
    "sep_semicolon_decimal_commas": (
        lambda: ("sep=;\r\nx;label\r\n" + "".join(f"{i},5;{'ab'[i % 2]}\r\n" for i in range(12))).encode(),
        Read(["x", "label"], check=_x_is(np.arange(12) + 0.5))),
    "sep_tab": (lambda: b"sep=\t\n" + GOOD.replace(b",", b"\t"), Read(["x", "label"])),
    "sep_quoted_pipe": (lambda: b'"sep=|"\n' + GOOD.replace(b",", b"|"), Read(["x", "label"])),
    "sep_upper_case": (lambda: b"SEP=;\n" + GOOD.replace(b",", b";"), Read(["x", "label"])),
    "sep_padded": (lambda: b"sep=;;\n" + GOOD.replace(b",", b";"), Read(["x", "label"])),
    "sep_after_bom": (lambda: codecs.BOM_UTF8 + b"sep=;\n" + GOOD.replace(b",", b";"), Read(["x", "label"])),
    "sep_cr_only": (lambda: b"sep=,\r" + GOOD.replace(b"\n", b"\r"), Read(["x", "label"])),
    # The line names ";", so "b,c" is one column name (sniffing alone would have split it).
    "sep_overrides_sniffing": (
        lambda: ("sep=;\na;b,c\n" + "".join(f"{i};{i},5\n" for i in range(12))).encode(), Read(["a", "b,c"])),
    "sep_only": (lambda: b"sep=;\n", Refused(r"only blank space")),
    "sep_line_counts_in_line_numbers": (lambda: b"sep=,\n" + GOOD + b"1,2,3\n",
                                        Refused(r"Line 15 has 3 fields but the header has 2")),
    # ---- empty and blank
    "empty": (lambda: b"", Refused(r"empty \(0 bytes\)")),
    "blank": (lambda: b" \t\r\n\r\n ", Refused(r"only blank space")),
    "line_breaks_48mb": (lambda: b"\n" * (48 * MB), Refused(r"only blank space")),
    "blank_lines_then_data": (lambda: b"\n" * (40 * MB) + GOOD,
                              Refused(r"lines; at most 4,000,000 are read")),
    # ---- binary
    "random_bytes_4kb": (lambda: _random_bytes(4096), Refused(r"binary data")),
    "random_bytes_5mb": (lambda: _random_bytes(5 * MB, seed=3), Refused(r"binary data")),
    "zip": (lambda: b"PK\x03\x04" + _random_bytes(1000), Refused(r"ZIP archive")),
    "png": (lambda: b"\x89PNG\r\n\x1a\n" + _random_bytes(1000), Refused(r"PNG image")),
    "elf_program": (lambda: b"\x7fELF\x02\x01\x01" + b"\x00" * 9 + _random_bytes(1000),
                    Refused(r"binary data")),
    "escape_sequences": (lambda: b"a,b\n" + b"\x1b[31m1,2\x1b[0m\n" * 12,
                         Refused(r"binary data \(\d+ control")),
    # ---- header only, duplicate names
    "header_only": (lambda: b"x,label\n", Refused(r"has 0 data row\(s\)")),
    "header_only_no_line_break": (lambda: b"x,label", Refused(r"has 0 data row\(s\)")),
    "duplicate_names": (lambda: _third_column("x"), Refused(r"repeats the column name 'x'")),
    "duplicate_after_spaces": (lambda: _third_column(" x "), Refused(r"repeats the column name 'x'")),
    "duplicate_after_invisible": (lambda: _third_column("x\u200b"), Refused(r"repeats the column name 'x'")),
    "names_differ_by_case": (lambda: _third_column("X"), Read(["x", "label", "X"])),
    "name_with_line_break": (lambda: GOOD.replace(b"label", b'"t\nimport os; open(1)  #"', 1),
                             Read(["x", "t import os; open(1) #"])),
    # ---- NUL bytes
    "nul_first": (lambda: b"\x00" + GOOD, Refused(r"a NUL byte at position 0\)")),
    "nul_in_header": (lambda: GOOD.replace(b"label", b"la\x00bel", 1),
                      Refused(r"a NUL byte at position 4\)")),
    "nul_deep": (lambda: b"a,b\n" + b"1,2\n" * (5 * MB) + b"\x00",
                 Refused(rf"a NUL byte at position {4 + 4 * 5 * MB}\)")),
}


def _timed(function, *args):
    start = time.process_time()
    try:
        result = function(*args)
    except ValueError as exc:
        result = exc
    return result, time.process_time() - start


def assert_clear(message: str) -> None:
    """A refusal a person can read, and a page can show literally without flooding it."""
    assert 20 <= len(message) <= 600, message
    assert message[0].isupper() and message.rstrip().endswith((".", "?")), message
    assert not any(unicodedata.category(c) == "Cc" for c in message), repr(message)


def assert_table_within_caps(frame: pd.DataFrame) -> None:
    rows, columns = frame.shape
    assert 2 <= columns <= csvdata.MAX_COLUMNS and csvdata.MIN_ROWS <= rows <= csvdata.MAX_ROWS
    assert rows * columns <= csvdata.MAX_CELLS
    names = list(frame.columns)
    assert len(set(names)) == len(names)
    for name in names:
        assert isinstance(name, str) and 0 < len(name) <= csvdata.MAX_TEXT_CHARS
        assert name == name.strip() and all(c.isprintable() for c in name), repr(name)
    for name in names:
        if frame[name].dtype.kind not in "iufb":
            assert frame[name].astype(str).str.len().max() <= csvdata.MAX_TEXT_CHARS


@pytest.mark.parametrize("name", list(CORPUS))
def test_every_file_is_read_or_refused_clearly_within_the_cpu_bound(name):
    build, expected = CORPUS[name]
    data = build()
    assert len(data) <= csvdata.MAX_BYTES
    result, seconds = _timed(csvdata.read_csv, data)
    assert seconds < CPU_BOUND, f"{name}: {seconds:.2f} s of CPU"
    if isinstance(expected, Refused):
        assert isinstance(result, ValueError), f"{name} was read: {getattr(result, 'shape', result)}"
        assert re.search(expected.words, str(result)), str(result)
    if isinstance(expected, Read):
        assert isinstance(result, pd.DataFrame), f"{name} was refused: {result}"
        assert list(result.columns) == expected.columns and len(result) == expected.rows
        if expected.check is not None:
            expected.check(result)
    if isinstance(result, ValueError):
        assert_clear(str(result))
    else:
        assert_table_within_caps(result)


def test_the_issue_sample_costs_milliseconds_not_seconds():
    # 32 KB of ",'" took csv.Sniffer 18 s; the bound here is a hundred times looser than what it costs.
    _, seconds = _timed(csvdata.read_csv, b"\",'" * 16000)
    assert seconds < CPU_BOUND / 10


def test_many_distinct_text_labels_are_read_then_refused_as_classes_within_the_bound():
    data = b"x,label\n" + b"".join(b"%d,c%d\n" % (i, i) for i in range(MAX_ROWS))
    start = time.process_time()
    frame = csvdata.read_csv(data)
    with pytest.raises(ValueError, match=r"'label' has 1000000 distinct values: too many to be classes"):
        csvdata.class_labels(frame, "label")
    assert time.process_time() - start < CPU_BOUND


@pytest.mark.parametrize("classes, refused", [(csvdata.MAX_CLASSES, False), (csvdata.MAX_CLASSES + 1, True)])
def test_the_class_cap_is_exact(classes, refused):
    labels = [f"k{i}" for i in range(classes)]
    frame = csvdata.read_csv(("x,label\n" + "".join(f"{i},{labels[i % classes]}\n"
                                                   for i in range(2 * classes))).encode())
    if refused:
        with pytest.raises(ValueError, match=rf"{classes} distinct values: too many to be classes"):
            csvdata.class_labels(frame, "label")
    else:
        assert sorted(csvdata.class_labels(frame, "label")) == sorted(labels)


def test_latin1_is_read_and_the_format_says_so():
    frame = csvdata.read_csv(table(LABELS, sep=";").encode("latin-1"))
    assert "Windows-1252" in csvdata.describe_format(frame)
    assert "semicolons" in csvdata.describe_format(frame)


def test_the_excel_separator_line_is_named_in_the_format():
    frame = csvdata.read_csv(b"sep=;\n" + GOOD.replace(b",", b";"))
    assert "sep=" in csvdata.describe_format(frame)
    assert "sep=" not in csvdata.describe_format(csvdata.read_csv(GOOD.replace(b",", b";")))


HOSTILE_NAMES = [
    "[Session expired: log in again](http://evil.example/login) ![t](http://evil.example/p.png)",
    "<a href='http://evil.example'>click</a>" + "x" * 300,
    "=HYPERLINK(\"http://evil.example\")",
    "\u202eevil\u202c name",
]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_messages_quote_user_text_truncated_and_escaped(name):
    # A repeated column name is quoted in the refusal: at most 40 of its characters, inside a repr.
    encoded = '"' + name.replace('"', '""') + '"'
    data = (f"{encoded},b,{encoded}\n" + "1,2,3\n" * 12).encode()
    with pytest.raises(ValueError) as info:
        csvdata.read_csv(data)
    message = str(info.value)
    assert_clear(message)
    clean = " ".join("".join(c for c in name if c.isprintable()).split())
    if len(clean) <= csvdata.MAX_TEXT_CHARS:
        shown = repr(clean[:40]) + ("…" if len(clean) > 40 else "")
        assert shown in message
        assert clean[40:] == "" or clean[40:50] not in message.replace(shown, "")
    else:
        assert "characters long" in message and repr(clean[:40]) + "…" in message


def test_a_hostile_cell_is_quoted_truncated_in_the_feature_refusal():
    cell = "line one\nline two [x](http://evil.example) " + "y" * 100
    data = ("x,y,z\n" + "".join(f'{i},{2 * i},"{cell}"\n' for i in range(12))).encode()
    frame = csvdata.read_csv(data)
    with pytest.raises(ValueError) as info:
        csvdata.to_dataset(frame, "y", ["z"], "regression")
    message = str(info.value)
    assert_clear(message)
    assert repr(cell[:40]) + "…" in message


def test_a_parser_failure_nobody_foresaw_is_still_a_refusal(monkeypatch):
    calls = {"n": 0}
    real = pd.read_csv

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if kwargs.get("header") == 0:
            raise IndexError("a pandas bug")
        return real(*args, **kwargs)

    monkeypatch.setattr(pd, "read_csv", flaky)
    with pytest.raises(ValueError, match=r"cannot be read as CSV \(IndexError\)"):
        csvdata.read_csv(GOOD)
    assert calls["n"] >= 1


def test_running_out_of_memory_is_a_refusal(monkeypatch):
    def exhausted(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(pd, "read_csv", exhausted)
    with pytest.raises(ValueError, match=r"too large to read in this server's memory"):
        csvdata.read_csv(GOOD)


# Random tables in every layout the reader accepts, with the characters that break parsers.
FIELD = st.text(alphabet=st.sampled_from(list('ab1.,;|\t"\' =-\r\né€\u2028')), max_size=6)
LAYOUT = st.fixed_dictionaries({
    "rows": st.lists(st.lists(FIELD, min_size=1, max_size=5), max_size=25),
    "sep": st.sampled_from([",", ";", "\t", "|"]),
    "end": st.sampled_from(["\n", "\r\n", "\r"]),
    "quote": st.booleans(),
    "hint": st.booleans(),
    "encoding": st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"]),
})


def _render(layout: dict) -> bytes:
    def field(text: str) -> str:
        return '"' + text.replace('"', '""') + '"' if layout["quote"] else text

    lines = [layout["sep"].join(field(f) for f in row) for row in layout["rows"]]
    text = ("sep=" + layout["sep"] + layout["end"] if layout["hint"] else "") + layout["end"].join(lines)
    return text.encode(layout["encoding"], errors="replace")


@settings(max_examples=150, deadline=None)
@given(layout=LAYOUT)
def test_random_tables_are_read_within_the_caps_or_refused_clearly(layout):
    result, seconds = _timed(csvdata.read_csv, _render(layout))
    assert seconds < CPU_BOUND
    if isinstance(result, ValueError):
        assert_clear(str(result))
    else:
        assert_table_within_caps(result)


@settings(max_examples=150, deadline=None)
@given(data=st.one_of(st.binary(min_size=1, max_size=3000),
                      st.text(max_size=1500).map(lambda t: t.encode("utf-8", "surrogatepass"))))
def test_random_bytes_never_raise_anything_but_a_clear_refusal(data):
    result, seconds = _timed(csvdata.read_csv, data)
    assert seconds < CPU_BOUND
    if isinstance(result, ValueError):
        assert_clear(str(result))
    else:
        assert_table_within_caps(result)


def test_a_well_formed_table_survives_every_layout_exactly():
    rng = np.random.default_rng(5)
    x = [float(v) for v in rng.normal(size=40)]
    labels = [f"k{i % 3} é" for i in range(40)]
    for sep in [",", ";", "\t", "|"]:
        for end in ["\n", "\r\n", "\r"]:
            for encoding in ["utf-8", "utf-8-sig", "utf-16", "latin-1"]:
                rows = "".join(f"{v!r}{sep}{lab}{end}" for v, lab in zip(x, labels, strict=True))
                text = f"x{sep}label{end}" + rows
                frame = csvdata.read_csv(text.encode(encoding))
                np.testing.assert_array_equal(frame["x"].to_numpy(), x)
                assert list(frame["label"]) == labels
