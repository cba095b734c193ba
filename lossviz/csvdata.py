"""Your own data: a CSV file's bytes become a :class:`lossviz.datasets.Dataset`, or a clear refusal.

Three steps, so a page can offer the column choices in between:

1. :func:`read_csv` turns raw bytes into a table of columns, or refuses the file with a message written
   for the person who uploaded it. Every refusal is a ``ValueError``; no other exception escapes for
   any bytes, and the work is bounded for any file under :data:`MAX_BYTES` (about a second of CPU at
   most): the size, the line count, the line length, the header width and the number of cells are
   checked before pandas builds anything big.
2. :func:`suggest_target` and :func:`suggest_task` propose the column to predict and the task;
   :func:`to_dataset` takes the chosen target and one or two feature columns and refuses non-numeric
   features, missing or infinite values, values too large to standardize (beyond :data:`MAX_ABS_VALUE`),
   constant or nearly constant columns, a classification target with one class (or
   too many to be classes) and a regression target that is not numeric.
3. :func:`to_csv` writes tables back out with every text cell and header escaped against formula
   injection (what a spreadsheet would run is prefixed with a quote), numbers left exact.

Nothing is written anywhere: the bytes are parsed in memory and the caller decides how long the table
lives (the page keeps it in the user's session only). Text is parsed as data by pandas, never executed.
Messages quote user text (a column name, a cell) with :func:`repr` and at most 40 characters of it,
so a page can show them literally.

    >>> from lossviz import csvdata
    >>> text = "x,y\\n" + "".join(f"{i},{2 * i + 1}\\n" for i in range(12))
    >>> table = csvdata.read_csv(text.encode())
    >>> d = csvdata.to_dataset(table, target="y", features=["x"], task="regression")
    >>> d.X.shape, d.task
    ((12, 1), 'regression')
"""
from __future__ import annotations

import codecs
import csv
import io
import numbers
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace

import numpy as np
import pandas as pd

from lossviz import datasets

__all__ = [
    "MAX_ABS_VALUE", "MAX_BYTES", "MAX_CELLS", "MAX_CLASSES", "MAX_COLUMNS", "MAX_FEATURES", "MAX_LINES",
    "MAX_LINE_BYTES", "MAX_ROWS", "MAX_TEXT_CHARS", "MB", "MIN_ROWS",
    "class_labels", "describe_format", "escape_cell", "numeric_columns", "read_csv", "size_limit",
    "suggest_target", "suggest_task", "to_csv", "to_dataset",
]

# Sizes are in decimal megabytes (1 MB = 10**6 bytes), as Streamlit's uploader counts them: the uploader,
# its label, this module's check and its messages state one limit the same way.
MB = 10**6
MAX_BYTES = 50 * MB
MAX_ROWS = 1_000_000
# The largest magnitude a numeric column may hold: the variance of MAX_ROWS values (and a squared
# residual of a loss) stays finite in float64 up to it (lossviz.datasets.max_abs_value).
MAX_ABS_VALUE = datasets.max_abs_value(MAX_ROWS)
MIN_ROWS = 10
MAX_COLUMNS = 1000
# Values read (rows x columns): pandas' time and memory follow this count, and 5 million parse in about
# 0.3 s, so a wide file gets fewer rows. A model uses three columns; MAX_ROWS of them fit.
MAX_CELLS = 5_000_000
# Line breaks, blank lines included. pandas skips a blank line in about 20 ns, so a 50 MB file of line
# breaks would cost a second; a table of MAX_ROWS rows needs MAX_ROWS of them.
MAX_LINES = 4 * MAX_ROWS
# The longest line of a table within the caps is MAX_COLUMNS values of MAX_TEXT_CHARS characters of up
# to 4 bytes each, about 0.8 MB; a longer line is refused before pandas reads it.
MAX_LINE_BYTES = 1024 * 1024
# A column name, a text cell, a class label: longer text is no label and would flood the page.
MAX_TEXT_CHARS = 200
MAX_CLASSES = 20
MAX_FEATURES = 2
# How much of a user's text a message quotes.
_SHOWN_CHARS = 40
# Integer targets with at most this many distinct values are suggested as classes, not a regression.
_SUGGEST_CLASSES_UP_TO = 10
_DELIMITERS = ",;\t|"
_DELIMITER_NAMES = {",": "commas", ";": "semicolons", "\t": "tabs", "|": "vertical bars"}
# The separator is guessed from the first records of the first 64 KB.
_SNIFF_BYTES = 1 << 16
_SNIFF_RECORDS = 50
_CHUNK_BYTES = 1 << 20

# Leading bytes of formats people upload by mistake; the message names the format and the fix.
_SIGNATURES = (
    (b"PK\x03\x04", "a ZIP archive (an Excel .xlsx or OpenDocument file is one)"),
    (b"\xd0\xcf\x11\xe0", "an old Excel .xls (OLE) file"),
    (b"\x1f\x8b", "a gzip-compressed file"),
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"PAR1", "a Parquet file"),
    (b"SQLite format 3", "an SQLite database"),
    (b"BZh", "a bzip2-compressed file"),
    (b"\xfd7zXZ", "an xz-compressed file"),
)
# Bytes that never occur in text: C0 controls other than tab, newline, carriage return (and the form
# feed and DOS end-of-file marker that old editors leave behind), and DEL.
_CONTROL_BYTES = bytes(sorted(set(range(0x09)) | {0x0B, 0x0E, 0x0F} | set(range(0x10, 0x1A))
                              | set(range(0x1B, 0x20)) | {0x7F}))
# A well-formed multi-byte UTF-8 sequence: in a file that is not valid UTF-8, many of these say the
# file is damaged UTF-8 rather than Latin-1 text.
_UTF8_SEQUENCE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")
# Excel's first line naming the separator: sep=; (sometimes quoted, or padded with separators).
_EXCEL_HINT = re.compile(rb'"?sep=([^\w\s"\'.]|\t)\1*"?[ \t]*(?:\r\n|\n|\r|\Z)', re.IGNORECASE)
# Names shown bare in a list of choices; anything else is quoted.
_PLAIN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,39}")


# ---------------------------------------------------------------------------------------------------
# User text in messages


def _quote(value: object, limit: int = _SHOWN_CHARS) -> str:
    """``value`` for a message: repr-quoted (controls and invisible characters escaped), truncated."""
    text = value if isinstance(value, str) else str(value)
    return repr(text) if len(text) <= limit else repr(text[:limit]) + "…"


def _names(items: Iterable[object], limit: int = 10) -> str:
    """A list of names for a message: plain names bare, others quoted, at most ``limit`` of them."""
    names = [str(item) for item in items]
    shown = [name if _PLAIN_NAME.fullmatch(name) else _quote(name) for name in names[:limit]]
    if len(names) > limit:
        shown.append(f"… ({len(names) - limit} more)")
    return ", ".join(shown)


def _check_choice(value: object, name: str, choices: Sequence[str]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"unknown {name} {_quote(value)}; valid names: {_names(choices)}")
    return value


# ---------------------------------------------------------------------------------------------------
# Bytes to UTF-8 text


def _size_text(n_bytes: int) -> str:
    """Bytes in decimal megabytes, a size over the limit never rounded down to it ("50.000001 MB")."""
    size = f"{n_bytes / MB:.1f}"
    if n_bytes > MAX_BYTES and float(size) * MB <= MAX_BYTES:
        size = f"{n_bytes / MB:.6f}".rstrip("0")
    return f"{size} MB"


def size_limit() -> str:
    """The upload limit as every message and label states it.

    >>> size_limit()
    '50 MB'
    """
    return f"{MAX_BYTES / MB:g} MB"


def _check_bytes(data: object) -> bytes:
    if isinstance(data, str):
        raise TypeError("data must be the file's bytes, got str; pass text.encode('utf-8')")
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"data must be bytes, got {type(data).__name__}")
    raw = bytes(data)
    if len(raw) == 0:
        raise ValueError("The file is empty (0 bytes): there is nothing to read.")
    if len(raw) > MAX_BYTES:
        raise ValueError(f"The file is {_size_text(len(raw))} ({len(raw):,} bytes); the limit is "
                         f"{size_limit()} ({MAX_BYTES:,} bytes). Upload a sample of the rows instead.")
    return raw


def _line_number(body: bytes, position: int) -> int:
    """1-based line of byte ``position``, counting CRLF, LF and CR-only line breaks alike."""
    return (body.count(b"\n", 0, position) + body.count(b"\r", 0, position)
            - body.count(b"\r\n", 0, position) + 1)


def _refuse_binary(data: bytes) -> None:
    nul = data.find(b"\x00")
    head = data[: 1 << 16]
    controls = sum(head.count(bytes([b])) for b in _CONTROL_BYTES)
    if nul >= 0 or controls > max(2, len(head) // 1000):
        where = f"a NUL byte at position {nul}" if nul >= 0 else f"{controls} control bytes"
        raise ValueError(f"The file holds binary data ({where}), not CSV text. Upload a .csv file "
                         "exported from a spreadsheet or written by a program.")


def _utf16_without_mark(raw: bytes) -> str | None:
    """``"utf-16-le"`` or ``"utf-16-be"`` when the first bytes are ASCII text in UTF-16, else None."""
    head = raw[: 4096 - 4096 % 2] if len(raw) >= 4096 else raw[: len(raw) - len(raw) % 2]
    if len(head) < 8:
        return None
    even, odd = head[0::2], head[1::2]
    if odd.count(0) >= 0.9 * len(odd) and even.count(0) <= 0.1 * len(even):
        return "utf-16-le"
    if even.count(0) >= 0.9 * len(even) and odd.count(0) <= 0.1 * len(odd):
        return "utf-16-be"
    return None


def _from_utf16(raw: bytes, codec: str) -> bytes:
    try:
        text = raw.decode(codec)
    except UnicodeDecodeError as exc:
        raise ValueError(f"The file starts like UTF-16 text but byte {exc.start} cannot be decoded: "
                         "it is damaged or not text. Save it again as 'CSV UTF-8'.") from None
    body = text.encode("utf-8")
    _refuse_binary(body)
    return body


def _first_invalid_utf8(body: bytes) -> int | None:
    """Position of the first byte that is not UTF-8, decoding in chunks so no giant string is built."""
    if body.isascii():
        return None
    decoder = codecs.getincrementaldecoder("utf-8")()
    for start in range(0, len(body), _CHUNK_BYTES):
        pending = len(decoder.getstate()[0])
        try:
            decoder.decode(body[start: start + _CHUNK_BYTES], final=start + _CHUNK_BYTES >= len(body))
        except UnicodeDecodeError as exc:
            return start - pending + exc.start
    return None


def _mostly_utf8(head: bytes) -> bool:
    """True when most of the non-ASCII bytes form well-formed UTF-8 sequences: damaged UTF-8, not Latin-1.

    Latin-1 text almost never holds such a sequence, and random bytes hold fewer than stray bytes.
    """
    rest, sequences = _UTF8_SEQUENCE.subn(b"", head)
    stray = int(np.count_nonzero(np.frombuffer(rest, dtype=np.uint8) >= 0x80))
    return sequences > 0 and sequences >= stray


def _decode(raw: bytes) -> tuple[bytes, str]:
    """The file as UTF-8 bytes without a byte-order mark, and the name of the encoding it was read in.

    UTF-8 (with or without its mark), UTF-16 (with its mark, or ASCII-range text without one) and, for
    text that is not UTF-8 at all, Windows-1252 (Latin-1 with the printable characters Windows adds).
    Binary data and damaged UTF-8 are refused.
    """
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _from_utf16(raw, "utf-16"), "UTF-16"
    for signature, kind in _SIGNATURES:
        if raw.startswith(signature):
            raise ValueError(f"This is {kind}, not CSV text. Open it in its program and export or save "
                             "it as CSV (comma-separated values).")
    codec = _utf16_without_mark(raw)
    if codec is not None:
        return _from_utf16(raw, codec), "UTF-16"
    _refuse_binary(raw)
    marked = raw.startswith(codecs.BOM_UTF8)
    body = raw[len(codecs.BOM_UTF8):] if marked else raw
    bad = _first_invalid_utf8(body)
    if bad is None:
        return body, "UTF-8"
    if marked or _mostly_utf8(body[:_CHUNK_BYTES]):
        raise ValueError(
            f"The file is not UTF-8 text: byte 0x{body[bad]:02X} on line {_line_number(body, bad)} cannot "
            "be decoded, though the file is UTF-8 elsewhere (damaged, or two encodings mixed). Save it as "
            "'CSV UTF-8' and upload it again."
        )
    # Latin-1 text is mostly ASCII even in French or German (a few percent of accented letters); text
    # in Cyrillic, Greek or an East Asian encoding, or random bytes, is not, and would read as garbage.
    high = int(np.count_nonzero(np.frombuffer(body, dtype=np.uint8) >= 0x80))
    if high > 0.4 * len(body):
        raise ValueError(
            f"The file is neither UTF-8 nor Latin-1 text ({100 * high // len(body)}% of its bytes are "
            "outside ASCII): another encoding, or not text. Save it as 'CSV UTF-8' and upload it again."
        )
    try:
        return body.decode("cp1252").encode("utf-8"), "Windows-1252"
    except UnicodeDecodeError:  # five bytes Windows-1252 leaves undefined: plain Latin-1 has them
        return body.decode("latin-1").encode("utf-8"), "Latin-1"


# ---------------------------------------------------------------------------------------------------
# Layout: separator, decimal mark, lines, header


def _excel_hint(body: bytes) -> tuple[str | None, bytes]:
    """The separator named by Excel's ``sep=;`` first line, and the bytes after that line."""
    match = _EXCEL_HINT.match(body)
    if match is None:
        return None, body
    return match.group(1).decode("ascii"), body[match.end():]


def _check_lines(body: bytes, line_offset: int) -> None:
    """Refuse too many line breaks or a line longer than MAX_LINE_BYTES, in a few passes over bytes."""
    lines = body.count(b"\n") + body.count(b"\r") - body.count(b"\r\n")
    if lines > MAX_LINES:
        raise ValueError(
            f"The file has {lines:,} lines; at most {MAX_LINES:,} are read (blank lines count too), for "
            f"at most {MAX_ROWS:,} data rows. Upload a sample of the rows, without blank lines."
        )
    start = 0
    while len(body) - start > MAX_LINE_BYTES:
        end = start + MAX_LINE_BYTES
        last_break = max(body.rfind(b"\n", start, end), body.rfind(b"\r", start, end))
        if last_break < 0:
            raise ValueError(
                f"Line {_line_number(body, start) + line_offset} is longer than "
                f"{MAX_LINE_BYTES // MB} MB: no row of a table is (at most {MAX_COLUMNS} "
                f"columns of {MAX_TEXT_CHARS} characters are read). Is this a CSV file?"
            )
        start = last_break + 1


def _field_counts(sample: str, delimiter: str, cut: bool) -> list[int]:
    """Fields in each non-blank record of ``sample`` (the last one dropped when the sample is cut)."""
    reader = csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter, skipinitialspace=True)
    counts: list[int] = []
    try:
        for record in reader:
            if len(record) > 1 or (record and record[0].strip()):
                counts.append(len(record))
                if len(counts) == _SNIFF_RECORDS:
                    return counts
    except csv.Error:
        return []
    return counts[:-1] if cut and len(counts) > 1 else counts


def _sniff(sample: str, cut: bool) -> str:
    """The separator whose records agree best with the header's field count (ties: more fields).

    Linear in the sample, unlike :class:`csv.Sniffer` (whose regular expressions take seconds on a
    few kilobytes of quotes).
    """
    best, best_key = ",", None
    for order, delimiter in enumerate(_DELIMITERS):
        counts = _field_counts(sample, delimiter, cut)
        if not counts or counts[0] < 2:
            continue
        rest = counts[1:]
        agreement = sum(count == counts[0] for count in rest) / len(rest) if rest else 1.0
        key = (agreement, counts[0], -order)
        if best_key is None or key > best_key:
            best, best_key = delimiter, key
    return best


def _decimal_mark(sample: str, delimiter: str) -> str:
    # Continental spreadsheets write "1,5" with ";" between fields.
    lines = "\n".join(sample.splitlines()[:20])
    comma_decimals = re.search(r"\d,\d", lines) and not re.search(r"\d\.\d", lines)
    return "," if delimiter == ";" and comma_decimals else "."


def _parser_message(exc: Exception, line_offset: int) -> str:
    text = str(exc)
    match = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", text)
    if match:
        expected, line, saw = (int(g) for g in match.groups())
        return (f"Line {line + line_offset} has {saw} fields but the header has {expected}: a stray "
                "separator, or a text value with a separator in it that is not in quotes?")
    if "EOF inside string" in text or "EOF while" in text:
        return "A quoted value is never closed: a \" opens a text that runs to the end of the file."
    first = text.splitlines()[0][:200].rstrip(". ") if text.strip() else type(exc).__name__
    return f"The file cannot be read as CSV: {first}."


def _header_fields(body: bytes, options: dict, sniffed: int, line_offset: int) -> list[str]:
    """The header row's fields as pandas reads them; refuses a too-wide header or first data row.

    pandas turns the extra leading fields of a first data row longer than the header into an index,
    which takes minutes for a row of a million fields; reading the first two records without a header
    makes it stop at such a row instead.
    """
    try:
        # Asking for the field just past the limit builds one column; it exists only in a header
        # that is too wide (otherwise pandas refuses the out-of-range column, which is the usual case).
        past_limit = pd.read_csv(io.BytesIO(body), header=None, nrows=1, usecols=[MAX_COLUMNS], dtype=str,
                                 **options).shape[1]
    except pd.errors.EmptyDataError:
        raise ValueError("The file has no columns to read.") from None
    except ValueError:
        past_limit = 0
    if past_limit:
        count = f"{sniffed}" if sniffed > MAX_COLUMNS else f"more than {MAX_COLUMNS}"
        raise ValueError(f"The file has {count} columns; at most {MAX_COLUMNS} are read.")
    try:
        top = pd.read_csv(io.BytesIO(body), header=None, nrows=2, dtype=str, keep_default_na=False,
                          **options)
    except pd.errors.EmptyDataError:
        raise ValueError("The file has no columns to read.") from None
    except pd.errors.ParserError as exc:
        match = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
        if match is None:
            raise ValueError(_parser_message(exc, line_offset)) from None
        expected, line, saw = (int(g) for g in match.groups())
        raise ValueError(
            f"The first data row has more fields than the header has names ({saw} against {expected}, "
            f"line {line + line_offset}): a stray separator at the end of the lines, or a column without "
            "a name?"
        ) from None
    return ["" if pd.isna(field) else str(field) for field in top.iloc[0]]


def _clean_name(field: str) -> str:
    """A header field as a column name: invisible characters dropped, runs of white space one space."""
    return " ".join("".join(c for c in field if c.isprintable() or c.isspace()).split())


def _is_number(text: str) -> bool:
    try:
        float(text.replace(",", "."))
    except ValueError:
        return False
    return True


def _column_names(fields: list[str]) -> list[str]:
    if len(fields) < 2:
        shown = _quote(_clean_name(fields[0])) if fields else "none"
        raise ValueError(
            f"Only one column was found (header {shown} if any): a model needs a target and at least one "
            "feature. Separate the columns with a comma, semicolon, tab or |."
        )
    for position, field in enumerate(fields, start=1):
        name = field.strip()
        if len(name) > MAX_TEXT_CHARS:
            raise ValueError(
                f"Column {position}'s name is {len(name):,} characters long ({_quote(name)}); names of at "
                f"most {MAX_TEXT_CHARS} characters are read. Is the first line a header?"
            )
    names = [_clean_name(field) for field in fields]
    named = [name for name in names if name]
    if named and all(_is_number(name) for name in named):
        shown = ", ".join(name[:20] for name in names[:4])
        raise ValueError(f"The first line ({shown}, ...) holds numbers, not column names: add a header "
                         "row that names each column.")
    for position, name in enumerate(names, start=1):
        if not name:
            raise ValueError(f"Column {position} has no name in the header row: name every column.")
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ValueError(f"The header repeats the column name {_quote(name)}: column names must be "
                             "distinct.")
        seen.add(name)
    return names


def _check_text_lengths(frame: pd.DataFrame) -> None:
    for name in frame.columns:
        series = frame[name]
        if series.dtype.kind in "iufbmM":
            continue
        too_long = (series.str.len() > MAX_TEXT_CHARS).to_numpy(dtype=bool, na_value=False)
        if too_long.any():
            row = int(np.flatnonzero(too_long)[0])
            value = str(series.iloc[row])
            raise ValueError(
                f"Column {_quote(name)} holds a value of {len(value):,} characters on data row {row + 1} "
                f"({_quote(value)}); values of at most {MAX_TEXT_CHARS} characters are read. Shorten it, "
                "or delete the column if you do not need it."
            )


# ---------------------------------------------------------------------------------------------------
# Reading


def read_csv(data: bytes) -> pd.DataFrame:
    """Parse an uploaded CSV file's bytes into a table, or refuse it with a message saying why.

    The separator (``,`` ``;`` tab or ``|``) is the one Excel's ``sep=`` first line names, else the one
    whose first records have the most consistent field counts; a ``;``-separated file with decimal
    commas is read as such. Line breaks may be LF, CRLF, CR (old Mac) or a mix. The text may be UTF-8
    (with or without a byte-order mark), UTF-16 or, when it is not UTF-8 at all, Windows-1252/Latin-1.
    Numbers become float64 or int64 columns, anything else a text column (refused later only if it is
    chosen as a feature). Blank lines are skipped. Column names lose surrounding white space and
    invisible characters, and line breaks or tabs inside a name become single spaces.

    The work is bounded for every input: about a second of CPU at most for a file of
    :data:`MAX_BYTES`. How the file was read is kept in ``frame.attrs["csv_format"]``; see
    :func:`describe_format`.

    Parameters
    ----------
    data : bytes
        The file's content, at most :data:`MAX_BYTES` (checked before decoding).

    Returns
    -------
    pandas.DataFrame, shape (n_rows, n_columns)
        One column per header name, ``MIN_ROWS <= n_rows <= MAX_ROWS``,
        ``2 <= n_columns <= MAX_COLUMNS`` and ``n_rows * n_columns <= MAX_CELLS``; every text value
        and name at most :data:`MAX_TEXT_CHARS` characters.

    Raises
    ------
    TypeError
        If ``data`` is not bytes.
    ValueError
        Empty, too large, binary, damaged or undecodable text, more than :data:`MAX_LINES` lines, a line
        over :data:`MAX_LINE_BYTES`, no header row, an unnamed, repeated or too long column name, rows
        with the wrong number of fields, an unclosed quote, fewer than 2 columns or more than
        :data:`MAX_COLUMNS`, fewer than :data:`MIN_ROWS` or more than :data:`MAX_ROWS` data rows (or
        more than :data:`MAX_CELLS` values), a text value over :data:`MAX_TEXT_CHARS` characters. Each
        has its own message, written for the person who uploaded the file; user text in it is quoted
        with :func:`repr` and truncated to 40 characters.

    Examples
    --------
    >>> from lossviz import csvdata
    >>> rows = "".join(f"{i},{i % 2}\\r" for i in range(12))  # old Mac line breaks
    >>> csvdata.read_csv(("sep=,\\rx,label\\r" + rows).encode()).shape
    (12, 2)
    >>> csvdata.read_csv(b"only one column\\n" + b"1\\n" * 12)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: Only one column was found (header 'only one column' if any): a model needs a target...
    """
    raw = _check_bytes(data)
    try:
        return _read(raw)
    except ValueError:
        raise
    except MemoryError:
        raise ValueError("The file is too large to read in this server's memory; upload a sample of the "
                         "rows.") from None
    except Exception as exc:  # a parser failure no rule above foresaw is still a refusal, not a crash
        raise ValueError(f"The file cannot be read as CSV ({type(exc).__name__}). Save it again as "
                         "'CSV UTF-8' from a spreadsheet and upload it again.") from exc


def _read(raw: bytes) -> pd.DataFrame:
    body, encoding = _decode(raw)
    hinted, body = _excel_hint(body)
    line_offset = 0 if hinted is None else 1
    if not body or body.isspace():
        raise ValueError("The file holds only blank space: there is no header and no data.")
    _check_lines(body, line_offset)
    sample = body[:_SNIFF_BYTES].decode("utf-8", errors="ignore")
    cut = len(body) > _SNIFF_BYTES
    delimiter = hinted if hinted is not None else _sniff(sample, cut)
    decimal = _decimal_mark(sample, delimiter)
    options = {"sep": delimiter, "skipinitialspace": True, "engine": "c", "quotechar": '"',
               "encoding": "utf-8"}
    counts = _field_counts(sample, delimiter, cut)
    # The first record's field count, when the sample holds all of it (only for a message).
    sniffed = counts[0] if counts and (not cut or len(counts) > 1) else 0
    names = _column_names(_header_fields(body, options, sniffed, line_offset))
    row_cap = min(MAX_ROWS, MAX_CELLS // len(names))
    try:
        frame = pd.read_csv(io.BytesIO(body), header=0, nrows=row_cap + 1, decimal=decimal,
                            low_memory=False, on_bad_lines="error", **options)
    except pd.errors.EmptyDataError:
        raise ValueError("The file has no columns to read.") from None
    except (pd.errors.ParserError, ValueError, csv.Error) as exc:
        raise ValueError(_parser_message(exc, line_offset)) from None
    if not isinstance(frame.index, pd.RangeIndex) or frame.shape[1] != len(names):
        raise ValueError(f"The first data row has more fields than the header has names ({len(names)}): a "
                         "stray separator at the end of the lines, or a column without a name?")
    frame.columns = names
    if len(frame) > row_cap:
        if row_cap == MAX_ROWS:
            raise ValueError(f"The file has more than {MAX_ROWS:,} data rows; upload a sample of at most "
                             f"{MAX_ROWS:,}.")
        raise ValueError(
            f"The file has more than {row_cap:,} data rows of {len(names)} columns; at most {MAX_CELLS:,} "
            "values (rows x columns) are read. Upload fewer rows, or delete the columns you do not need."
        )
    if len(frame) < MIN_ROWS:
        raise ValueError(f"The file has {len(frame)} data row(s); at least {MIN_ROWS} are needed to fit "
                         "a model and draw its landscape.")
    _check_text_lengths(frame)
    frame.attrs["csv_format"] = {"encoding": encoding, "delimiter": delimiter, "decimal": decimal,
                                 "sep_line": hinted is not None}
    return frame


def describe_format(frame: pd.DataFrame) -> str:
    """One sentence on how :func:`read_csv` read the file (encoding, separator, decimal mark).

    Empty for a table that did not come from :func:`read_csv`.

    >>> from lossviz import csvdata
    >>> text = "x;y\\n" + "".join(f"{i},5;{i}\\n" for i in range(12))
    >>> csvdata.describe_format(csvdata.read_csv(text.encode()))
    'Read as UTF-8 text with semicolons between the values and decimal commas.'
    """
    info = frame.attrs.get("csv_format")
    if not isinstance(info, dict):
        return ""
    separator = _DELIMITER_NAMES.get(info["delimiter"], f"{info['delimiter']!r}")
    decimal = " and decimal commas" if info["decimal"] == "," else ""
    hint = " (named by the file's sep= first line)" if info["sep_line"] else ""
    return f"Read as {info['encoding']} text with {separator} between the values{hint}{decimal}."


# ---------------------------------------------------------------------------------------------------
# Choosing the target


# Normalized names that say "this is what to predict", most telling first.
_TARGET_NAMES = ("target", "label", "labels", "class", "classes", "class_label", "outcome", "response",
                 "y", "y_true", "truth", "ground_truth", "category", "dependent_variable")
# Words that say so inside a longer name ("Target price", "class (1 = yes)").
_TARGET_WORDS = frozenset({"target", "label", "labels", "class", "outcome", "response"})


def _normalized(name: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", name.lower()).strip("_")


def suggest_target(frame: pd.DataFrame) -> tuple[str, str]:
    """The column to predict by default, and one sentence saying why it was picked.

    A column named like a target (``target``, ``label``, ``class``, ``outcome``, ``response``, ``y``,
    ``y_true``, ... in any case and spelling of separators), else one with such a word in its name
    (``Target price``), else the last column: tables usually end with what they record.

    Parameters
    ----------
    frame : DataFrame, shape (n_rows, n_columns)
        From :func:`read_csv`, at least one column.

    Returns
    -------
    (str, str)
        The column name and the reason, with the name quoted for display.

    Examples
    --------
    >>> import pandas as pd
    >>> from lossviz import csvdata
    >>> csvdata.suggest_target(pd.DataFrame(columns=["height", "Label", "weight"]))
    ('Label', "'Label' looks like a target column (its name says so).")
    >>> column, reason = csvdata.suggest_target(pd.DataFrame(columns=["height", "weight"]))
    >>> print(reason)
    'weight' is the last column; no column is named like a target (label, target, class, y, ...).
    """
    columns = [str(c) for c in frame.columns]
    if not columns:
        raise ValueError("The table has no columns to choose a target from.")
    normalized = [_normalized(c) for c in columns]
    for wanted in _TARGET_NAMES:
        if wanted in normalized:
            name = columns[normalized.index(wanted)]
            return name, f"{_quote(name)} looks like a target column (its name says so)."
    for name, key in reversed(list(zip(columns, normalized, strict=True))):
        if _TARGET_WORDS.intersection(key.split("_")):
            return name, f"{_quote(name)} looks like a target column (its name says so)."
    name = columns[-1]
    return name, (f"{_quote(name)} is the last column; no column is named like a target (label, target, "
                  "class, y, ...).")


def numeric_columns(frame: pd.DataFrame) -> list[str]:
    """Names of the columns parsed as numbers (booleans count: they are 0 and 1)."""
    return [str(c) for c in frame.columns if frame[c].dtype.kind in "iufb"]


def _row(frame: pd.DataFrame, mask: np.ndarray) -> int:
    """1-based data row number of the first True in ``mask`` (blank lines are not counted)."""
    return int(np.flatnonzero(mask)[0]) + 1


def _numeric_values(frame: pd.DataFrame, column: str, role: str) -> np.ndarray:
    series = frame[column]
    if series.dtype.kind not in "iufb":
        numbers = pd.to_numeric(series, errors="coerce")
        bad = numbers.isna().to_numpy() & series.notna().to_numpy()
        if bad.any():
            row = _row(frame, bad)
            raise ValueError(
                f"Column {_quote(column)} ({role}) is not numeric: data row {row} holds "
                f"{_quote(str(series.iloc[row - 1]))}. A {role} must hold numbers only."
            )
    values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    missing = np.isnan(values)
    if missing.any():
        raise ValueError(f"Column {_quote(column)} ({role}) has {int(missing.sum())} missing value(s), the "
                         f"first on data row {_row(frame, missing)}. Remove those rows or fill them in.")
    infinite = np.isinf(values)
    if infinite.any():
        raise ValueError(f"Column {_quote(column)} ({role}) holds an infinite value on data row "
                         f"{_row(frame, infinite)}.")
    too_large = np.abs(values) > MAX_ABS_VALUE
    if too_large.any():
        row = _row(frame, too_large)
        raise ValueError(
            f"Column {_quote(column)} ({role}) holds {values[row - 1]:g} on data row {row}: its values are "
            f"too large to standardize (squaring them overflows the arithmetic). Values of at most "
            f"{MAX_ABS_VALUE:g} in absolute value are used: rescale the column (divide it by a power of ten)."
        )
    if datasets.constant_columns(values[:, None])[0]:
        if np.all(values == values[0]):
            raise ValueError(f"Column {_quote(column)} ({role}) is constant (every row is {values[0]:g}): it "
                             "cannot explain or be explained by anything. Choose another column.")
        raise ValueError(
            f"Column {_quote(column)} ({role}) is nearly constant: its values span only "
            f"{np.ptp(values):.3g} around {float(np.mean(values)):g}, too little to standardize. Choose "
            "another column, or rescale this one (subtract its mean, then multiply it by a power of ten)."
        )
    return values


def _label_values(frame: pd.DataFrame, column: str) -> np.ndarray:
    """Class labels as strings (numbers written without a trailing .0), refusing missing values."""
    series = frame[column]
    missing = series.isna().to_numpy(dtype=bool)
    if series.dtype.kind not in "iufb":
        missing = missing | (series.astype(str).str.strip() == "").to_numpy(dtype=bool)
    if missing.any():
        raise ValueError(f"Column {_quote(column)} (target) has {int(missing.sum())} missing label(s), the "
                         f"first on data row {_row(frame, missing)}. Remove those rows or fill them in.")
    if series.dtype.kind == "f":
        values = series.to_numpy(dtype=np.float64)
        fractional = values != np.round(values)
        if fractional.any():
            row = _row(frame, fractional)
            raise ValueError(
                f"Column {_quote(column)} holds non-integer numbers ({values[row - 1]:g} on data row {row}): "
                "that is a regression target, not class labels. Choose regression, or a column of classes."
            )
        return np.array([f"{v:g}" for v in values], dtype=object)
    return series.astype(str).str.strip().to_numpy(dtype=object)


def class_labels(frame: pd.DataFrame, target: str) -> list[str]:
    """The distinct class labels of ``target`` (sorted as numbers when they all are, else as text).

    Raises
    ------
    ValueError
        Unknown column, missing labels, non-integer numbers, more than :data:`MAX_CLASSES` classes, or
        a label longer than :data:`MAX_TEXT_CHARS` characters.
    """
    _check_choice(target, "target", [str(c) for c in frame.columns])
    labels = _label_values(frame, target)
    distinct = list(pd.unique(labels))
    if len(distinct) > MAX_CLASSES:
        raise ValueError(
            f"Column {_quote(target)} has {len(distinct)} distinct values: too many to be classes (at most "
            f"{MAX_CLASSES}). Choose regression for a numeric target, or another column."
        )
    longest = max(distinct, key=len, default="")
    if len(longest) > MAX_TEXT_CHARS:
        raise ValueError(f"Column {_quote(target)} holds a class label of {len(longest):,} characters "
                         f"({_quote(longest)}); labels of at most {MAX_TEXT_CHARS} characters are used.")
    if all(_is_number(label) for label in distinct):
        return sorted(distinct, key=lambda s: float(s))
    return sorted(distinct)


_MOSTLY_NUMBERS = 0.8


def suggest_task(frame: pd.DataFrame, target: str) -> str:
    """``"classification"`` for text labels or few distinct integers, ``"regression"`` otherwise.

    A column of numbers with a few cells of text (at least :data:`_MOSTLY_NUMBERS` of its cells numbers)
    is judged by its numbers: a numeric target with a stray "abc" is suggested regression, whose message
    names the cell, rather than classification, whose message would count its many distinct values.
    """
    _check_choice(target, "target", [str(c) for c in frame.columns])
    series = frame[target].dropna()
    if series.dtype.kind not in "iufb":
        numbers = pd.to_numeric(series.astype(str).str.strip(), errors="coerce").dropna()
        if series.empty or numbers.size < _MOSTLY_NUMBERS * series.size:
            return "classification"
        series = numbers
    values = series.to_numpy(dtype=np.float64)
    integral = bool(np.all(values == np.round(values)))
    return "classification" if integral and np.unique(values).size <= _SUGGEST_CLASSES_UP_TO else "regression"


def to_dataset(
    frame: pd.DataFrame,
    target: str,
    features: Sequence[str],
    task: str,
    positive_class: str | None = None,
    name: str = "your CSV",
) -> datasets.Dataset:
    """Build the Dataset a model trains on from the chosen columns of :func:`read_csv`'s table.

    Parameters
    ----------
    frame : DataFrame
        From :func:`read_csv`.
    target : str
        The column to predict.
    features : sequence of 1 or 2 str
        Numeric columns other than the target.
    task : {"regression", "classification"}
        Regression standardizes the target too (kept in ``y_mean``, ``y_scale``), so every upload gives
        a landscape of the same scale. Classification is binary, as logistic regression is: label 1 is
        ``positive_class`` and 0 every other class.
    positive_class : str, optional
        One of :func:`class_labels`; required when the target has more than two classes, and the
        second label in sorted order when omitted with two.
    name : str

    Returns
    -------
    Dataset
        Standardized features (``X_mean``, ``X_scale`` keep the original units); for classification
        ``y`` in {0, 1} with ``class_names = (other, positive)``.

    Raises
    ------
    ValueError
        Unknown columns, a feature repeated or equal to the target, not 1 or 2 features, a non-numeric
        feature or regression target, missing or infinite values, values too large to standardize (beyond
        :data:`MAX_ABS_VALUE`), a constant or nearly constant column, a classification
        target with one class, more than :data:`MAX_CLASSES` classes or non-integer numbers, or an
        unknown positive class.
    """
    columns = [str(c) for c in frame.columns]
    _check_choice(task, "task", datasets.TASKS)
    _check_choice(target, "target", columns)
    chosen = list(features)
    if not 1 <= len(chosen) <= MAX_FEATURES:
        raise ValueError(f"features must name 1 or {MAX_FEATURES} columns (an exact 2-D landscape needs "
                         f"two parameters), got {len(chosen)}")
    for feature in chosen:
        _check_choice(feature, "feature", columns)
        if feature == target:
            raise ValueError(f"Column {_quote(feature)} is the target; a feature must be another column.")
    if len(set(chosen)) != len(chosen):
        raise ValueError(f"features must be distinct columns, got {_names(chosen)}")
    X = np.column_stack([_numeric_values(frame, f, "feature") for f in chosen])
    if task == "regression":
        y = _numeric_values(frame, target, "target")
        return datasets.from_arrays(X, y, task="regression", feature_names=chosen, target_name=target,
                                    name=name, standardize_target=True,
                                    description=f"{len(frame):,} rows uploaded as a CSV file.")
    labels = _label_values(frame, target)
    classes = class_labels(frame, target)
    if len(classes) < 2:
        raise ValueError(f"Column {_quote(target)} has only one class ({_quote(classes[0])}): a classifier "
                         "needs at least two classes to tell apart.")
    if positive_class is None:
        if len(classes) > 2:
            raise ValueError(f"Column {_quote(target)} has {len(classes)} classes "
                             f"({_names(classes, MAX_CLASSES)}): choose the positive class; logistic "
                             "regression tells it from all the others.")
        positive_class = classes[1]
    _check_choice(positive_class, "positive_class", classes)
    y = (labels == positive_class).astype(np.int64)
    negative = classes[0] if len(classes) == 2 else f"not {positive_class}"
    dataset = datasets.from_arrays(X, y, task="classification", feature_names=chosen, target_name=target,
                                   name=name, description=f"{len(frame):,} rows uploaded as a CSV file.")
    return replace(dataset, class_names=(negative, str(positive_class)))


# ---------------------------------------------------------------------------------------------------
# Writing


# What a spreadsheet reads as the start of a formula (OWASP "CSV injection").
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# A plain decimal number as text; linear-time (no nested repetition), and only tried on short text.
_NUMBER_TEXT = re.compile(r"[+-]?(?:(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|inf|infinity|nan)",
                          re.IGNORECASE)


def escape_cell(text: str) -> str:
    """``text`` made safe for a spreadsheet cell: a leading quote when it would start a formula.

    Text starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is prefixed with ``'``
    unless it is a plain number (``-1.5``, ``+2e-3``, ``-inf``), so it shows as text instead of being
    run (OWASP's CSV-injection rule). Anything else is returned unchanged.

    >>> from lossviz.csvdata import escape_cell
    >>> escape_cell("=HYPERLINK(\\"http://x\\")"), escape_cell("-1.5"), escape_cell("height")
    ('\\'=HYPERLINK("http://x")', '-1.5', 'height')
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    if text.startswith(_FORMULA_STARTS) and not (len(text) <= 64 and _NUMBER_TEXT.fullmatch(text)):
        return "'" + text
    return text


def _escape_value(value: object) -> object:
    """A cell or header for writing: text escaped, numbers and missing values as they are."""
    if isinstance(value, str):
        return escape_cell(value)
    if value is None or isinstance(value, (numbers.Number, np.generic)):
        return value
    return escape_cell(str(value))  # pandas would write str(value): a Timestamp, a tuple, an object


def _escaped_column(column: pd.Series) -> pd.Series | None:
    """``column`` with formula-like text escaped, or None when nothing in it needs escaping."""
    if column.dtype.kind in "iufcbmM":
        return None
    if isinstance(column.dtype, pd.StringDtype):  # vectorized: exports may hold a million rows
        risky = column.str.startswith(_FORMULA_STARTS).to_numpy(dtype=bool, na_value=False)
        if not risky.any():
            return None
        values = column.astype(object)
        values[risky] = values[risky].map(escape_cell)
        return values
    return column.astype(object).map(_escape_value)


def _escaped(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for position in range(out.shape[1]):
        escaped = _escaped_column(out.iloc[:, position])
        if escaped is not None:
            out.isetitem(position, escaped)
    out.columns = [_escape_value(name) for name in out.columns]
    return out


def to_csv(tables: pd.DataFrame | Mapping[str, pd.DataFrame], *, label: str = "source",
           index: bool = False) -> str:
    """CSV text of one table, or of several labelled tables stacked, escaped against formula injection.

    Every text cell and header that a spreadsheet would run as a formula is prefixed with ``'`` (see
    :func:`escape_cell`); numbers are written at full precision (``repr``), so reading the file back
    gives the same float64 values.

    Parameters
    ----------
    tables : DataFrame or mapping of str to DataFrame
        One table, or tables by name (for example one per optimizer). Several tables are stacked in
        the mapping's order, under the union of their columns (missing cells empty), with a first
        column ``label`` holding each row's name.
    label : str
        Name of the column that holds the names when ``tables`` is a mapping.
    index : bool
        Write the index as the first column(s) (named ``index`` when unnamed).

    Returns
    -------
    str
        The CSV text: a header line, then one line per row, ``\\r\\n`` line breaks (RFC 4180).

    Raises
    ------
    TypeError
        If ``tables`` is neither a DataFrame nor a mapping of names to DataFrames.
    ValueError
        If the mapping is empty, or ``label`` names a column of one of the tables.

    Examples
    --------
    >>> import pandas as pd
    >>> from lossviz import csvdata
    >>> runs = {"SGD": pd.DataFrame({"step": [0, 1], "loss": [2.5, -0.125]}),
    ...         "=cmd": pd.DataFrame({"step": [0], "loss": [1.0]})}
    >>> csvdata.to_csv(runs, label="optimizer").splitlines()
    ['optimizer,step,loss', 'SGD,0,2.5', 'SGD,1,-0.125', "'=cmd,0,1.0"]
    """
    if isinstance(tables, pd.DataFrame):
        frame = tables
    elif isinstance(tables, Mapping):
        if not tables:
            raise ValueError("tables must hold at least one DataFrame, got an empty mapping")
        parts = []
        for name, table in tables.items():
            if not isinstance(table, pd.DataFrame):
                raise TypeError(f"tables[{_quote(name)}] must be a DataFrame, got {type(table).__name__}")
            if label in [str(c) for c in table.columns]:
                raise ValueError(f"label {_quote(label)} is already a column of tables[{_quote(name)}]; "
                                 "choose another label")
            part = table.reset_index() if index else table.reset_index(drop=True)
            part.insert(0, label, str(name))
            parts.append(part)
        frame, index = pd.concat(parts, ignore_index=True), False
    else:
        raise TypeError(f"tables must be a DataFrame or a mapping of names to DataFrames, got "
                        f"{type(tables).__name__}")
    if index:
        frame = frame.reset_index()
    # CRLF as RFC 4180 has it; it also makes the writer quote a value holding a lone "\r", which
    # "\n" line ends would leave bare (a reader would end the row there).
    return _escaped(frame).to_csv(index=False, lineterminator="\r\n")
