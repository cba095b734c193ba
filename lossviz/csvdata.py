"""Your own data: a CSV file's bytes become a :class:`lossviz.datasets.Dataset`, or a clear refusal.

Two steps, so a page can offer the column choices in between:

1. :func:`read_csv` turns raw bytes into a table of columns. It refuses, each with its own message,
   files over :data:`MAX_BYTES` (checked before anything is decoded), binary files (a spreadsheet, an
   archive, a picture, random bytes), text that is not UTF-8 or UTF-16, a missing or broken header
   row, rows with the wrong number of fields, fewer than :data:`MIN_ROWS` or more than :data:`MAX_ROWS`
   data rows, and tables with fewer than two columns.
2. :func:`to_dataset` takes the target and one or two feature columns and refuses non-numeric
   features, missing or infinite values, constant columns, a classification target with one class
   (or too many to be classes) and a regression target that is not numeric.

Nothing is written anywhere: the bytes are parsed in memory and the caller decides how long the table
lives (the page keeps it in the user's session only). Text is parsed as data by pandas, never executed.

    >>> from lossviz import csvdata
    >>> text = "x,y\\n" + "".join(f"{i},{2 * i + 1}\\n" for i in range(12))
    >>> table = csvdata.read_csv(text.encode())
    >>> d = csvdata.to_dataset(table, target="y", features=["x"], task="regression")
    >>> d.X.shape, d.task
    ((12, 1), 'regression')
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import pandas as pd

from lossviz import datasets
from lossviz._validation import check_choice

__all__ = [
    "read_csv", "to_dataset", "suggest_task", "class_labels", "numeric_columns",
    "MAX_BYTES", "MAX_ROWS", "MIN_ROWS", "MAX_CLASSES", "MAX_FEATURES",
]

MAX_BYTES = 50 * 1024 * 1024
MAX_ROWS = 1_000_000
MIN_ROWS = 10
MAX_CLASSES = 20
MAX_FEATURES = 2
MAX_COLUMNS = 1000
# Integer targets with at most this many distinct values are suggested as classes, not a regression.
_SUGGEST_CLASSES_UP_TO = 10
_DELIMITERS = ",;\t|"

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
_CONTROL_BYTES = bytes(sorted(set(range(0x00, 0x09)) | {0x0B, 0x0E, 0x0F} | set(range(0x10, 0x1A))
                              | set(range(0x1B, 0x20)) | {0x7F}))


def _size_text(n_bytes: int) -> str:
    return f"{n_bytes / 1024 / 1024:.1f} MB"


def _check_bytes(data: object) -> bytes:
    if isinstance(data, str):
        raise TypeError("data must be the file's bytes, got str; pass text.encode('utf-8')")
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"data must be bytes, got {type(data).__name__}")
    raw = bytes(data)
    if len(raw) == 0:
        raise ValueError("The file is empty (0 bytes): there is nothing to read.")
    if len(raw) > MAX_BYTES:
        raise ValueError(f"The file is {_size_text(len(raw))}; the limit is {MAX_BYTES // 1024 // 1024} MB. "
                         "Upload a sample of the rows instead.")
    return raw


def _decode(raw: bytes) -> str:
    """UTF-8 (with or without a byte-order mark) or UTF-16 with its mark; anything else is refused."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise ValueError(f"The file starts like UTF-16 text but byte {exc.start} cannot be decoded: "
                             "it is damaged or not text. Save it again as 'CSV UTF-8'.") from None
    for signature, kind in _SIGNATURES:
        if raw.startswith(signature):
            raise ValueError(f"This is {kind}, not CSV text. Open it in its program and export or save "
                             "it as CSV (comma-separated values).")
    head = raw[: 1 << 16]
    nul = head.find(b"\x00")
    controls = sum(head.count(bytes([b])) for b in _CONTROL_BYTES)
    if nul >= 0 or controls > max(2, len(head) // 1000):
        where = f"a NUL byte at position {nul}" if nul >= 0 else f"{controls} control bytes"
        raise ValueError(f"The file holds binary data ({where}), not CSV text. Upload a .csv file "
                         "exported from a spreadsheet or written by a program.")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ValueError(
            f"The file is not UTF-8 text: byte 0x{raw[exc.start]:02X} on line {line} cannot be decoded "
            "(Latin-1 or Windows-1252, perhaps). Save it as 'CSV UTF-8' and upload it again."
        ) from None
    return text[1:] if text.startswith("\ufeff") else text


def _sniff(text: str) -> tuple[str, str]:
    """The field separator and the decimal mark, guessed from the first lines."""
    sample = "\n".join(text[: 1 << 15].splitlines()[:20])
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=_DELIMITERS).delimiter
    except csv.Error:
        header = sample.split("\n", 1)[0]
        counts = {d: header.count(d) for d in _DELIMITERS}
        delimiter = max(counts, key=counts.get) if max(counts.values()) else ","
    # Continental spreadsheets write "1,5" with ";" between fields.
    comma_decimals = re.search(r"\d,\d", sample) and not re.search(r"\d\.\d", sample)
    decimal = "," if delimiter == ";" and comma_decimals else "."
    return delimiter, decimal


def _parser_message(exc: Exception) -> str:
    text = str(exc)
    match = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", text)
    if match:
        expected, line, saw = match.groups()
        return (f"Line {line} has {saw} fields but the header has {expected}: a stray separator, or a text "
                "value with a separator in it that is not in quotes?")
    if "EOF inside string" in text or "EOF while" in text:
        return "A quoted value is never closed: a \" opens a text that runs to the end of the file."
    return f"The file cannot be read as CSV: {text.splitlines()[0] if text else type(exc).__name__}"


def _header_fields(text: str, delimiter: str) -> list[str]:
    first = next(csv.reader(io.StringIO(text), delimiter=delimiter), [])
    return [field.strip() for field in first]


def _is_number(text: str) -> bool:
    try:
        float(text.replace(",", "."))
    except ValueError:
        return False
    return True


def read_csv(data: bytes) -> pd.DataFrame:
    """Parse an uploaded CSV file's bytes into a table, or refuse it with a message saying why.

    The separator (``,`` ``;`` tab or ``|``) is detected from the first lines, and a ``;``-separated
    file with decimal commas is read as such. Numbers become float64 or int64 columns, anything else a
    text column (refused later only if it is chosen as a feature). Blank lines are skipped.

    Parameters
    ----------
    data : bytes
        The file's content, at most :data:`MAX_BYTES` (checked before decoding).

    Returns
    -------
    pandas.DataFrame
        One column per header name (stripped of surrounding spaces), ``MIN_ROWS`` to ``MAX_ROWS`` rows.

    Raises
    ------
    TypeError
        If ``data`` is not bytes.
    ValueError
        Empty, too large, binary, not UTF-8/UTF-16, no header row, an unnamed or repeated column, rows
        with the wrong number of fields, an unclosed quote, fewer than 2 columns or more than
        ``MAX_COLUMNS``, fewer than ``MIN_ROWS`` or more than ``MAX_ROWS`` data rows. Each has its own
        message, written for the person who uploaded the file.
    """
    text = _decode(_check_bytes(data))
    if not text.strip():
        raise ValueError("The file holds only blank space: there is no header and no data.")
    delimiter, decimal = _sniff(text)
    header = _header_fields(text.lstrip("\r\n"), delimiter)
    if len(header) < 2:
        raise ValueError(
            f"Only one column was found (header {header[0][:40]!r} if any): a model needs a target and at "
            "least one feature. Separate the columns with a comma, semicolon, tab or |."
        )
    if len(header) > MAX_COLUMNS:
        raise ValueError(f"The file has {len(header)} columns; at most {MAX_COLUMNS} are read.")
    if all(_is_number(field) for field in header if field):
        shown = ", ".join(header[:4])
        raise ValueError(f"The first line ({shown}, ...) holds numbers, not column names: add a header "
                         "row that names each column.")
    for position, name in enumerate(header, start=1):
        if not name:
            raise ValueError(f"Column {position} has no name in the header row: name every column.")
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise ValueError(f"The header repeats the column name {repeated[0]!r}: column names must be "
                         "distinct.")
    try:
        frame = pd.read_csv(io.StringIO(text), sep=delimiter, decimal=decimal, nrows=MAX_ROWS + 1,
                            skipinitialspace=True, low_memory=False, on_bad_lines="error")
    except pd.errors.EmptyDataError:
        raise ValueError("The file has no columns to read.") from None
    except (pd.errors.ParserError, ValueError, csv.Error) as exc:
        raise ValueError(_parser_message(exc)) from None
    if not isinstance(frame.index, pd.RangeIndex):
        # pandas reads a first data row longer than the header as "the first fields are an index".
        raise ValueError(f"The first data row has more fields than the header has names ({len(header)}): a "
                         "stray separator at the end of the lines, or a column without a name?")
    frame.columns = [str(c).strip() for c in frame.columns]
    if len(frame) > MAX_ROWS:
        raise ValueError(f"The file has more than {MAX_ROWS:,} data rows; upload a sample of at most "
                         f"{MAX_ROWS:,}.")
    if len(frame) < MIN_ROWS:
        raise ValueError(f"The file has {len(frame)} data row(s); at least {MIN_ROWS} are needed to fit "
                         "a model and draw its landscape.")
    return frame


def numeric_columns(frame: pd.DataFrame) -> list[str]:
    """Names of the columns parsed as numbers (booleans count: they are 0 and 1)."""
    return [str(c) for c in frame.columns if frame[c].dtype.kind in "iufb"]


def _row(frame: pd.DataFrame, mask: np.ndarray) -> int:
    """1-based data row number of the first True in ``mask`` (blank lines are not counted)."""
    return int(np.flatnonzero(mask)[0]) + 1


def _numeric_values(frame: pd.DataFrame, column: str, role: str) -> np.ndarray:
    series = frame[column]
    if series.dtype.kind not in "iufb":
        values = series.astype(str)
        numbers = pd.to_numeric(series, errors="coerce")
        bad = numbers.isna().to_numpy() & series.notna().to_numpy()
        if bad.any():
            row = _row(frame, bad)
            raise ValueError(
                f"Column {column!r} ({role}) is not numeric: data row {row} holds "
                f"{values.iloc[row - 1][:40]!r}. A {role} must hold numbers only."
            )
    values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    missing = np.isnan(values)
    if missing.any():
        raise ValueError(f"Column {column!r} ({role}) has {int(missing.sum())} missing value(s), the first "
                         f"on data row {_row(frame, missing)}. Remove those rows or fill them in.")
    infinite = np.isinf(values)
    if infinite.any():
        raise ValueError(f"Column {column!r} ({role}) holds an infinite value on data row "
                         f"{_row(frame, infinite)}.")
    if np.ptp(values) <= 1e-12 * max(1.0, float(np.abs(values).max())):
        raise ValueError(f"Column {column!r} ({role}) is constant (every row is {values[0]:g}): it cannot "
                         "explain or be explained by anything. Choose another column.")
    return values


def _label_values(frame: pd.DataFrame, column: str) -> np.ndarray:
    """Class labels as strings (numbers written without a trailing .0), refusing missing values."""
    series = frame[column]
    missing = series.isna().to_numpy(dtype=bool)
    if series.dtype.kind not in "iufb":
        missing = missing | (series.astype(str).str.strip() == "").to_numpy(dtype=bool)
    if missing.any():
        raise ValueError(f"Column {column!r} (target) has {int(missing.sum())} missing label(s), the first "
                         f"on data row {_row(frame, missing)}. Remove those rows or fill them in.")
    if series.dtype.kind == "f":
        values = series.to_numpy(dtype=np.float64)
        fractional = values != np.round(values)
        if fractional.any():
            row = _row(frame, fractional)
            raise ValueError(
                f"Column {column!r} holds non-integer numbers ({values[row - 1]:g} on data row {row}): that "
                "is a regression target, not class labels. Choose regression, or a column of classes."
            )
        return np.array([f"{v:g}" for v in values], dtype=object)
    return series.astype(str).str.strip().to_numpy(dtype=object)


def class_labels(frame: pd.DataFrame, target: str) -> list[str]:
    """The distinct class labels of ``target`` (sorted as numbers when they all are, else as text).

    Raises
    ------
    ValueError
        Unknown column, missing labels, non-integer numbers, or more than :data:`MAX_CLASSES` classes.
    """
    check_choice(target, "target", [str(c) for c in frame.columns])
    labels = _label_values(frame, target)
    distinct = list(pd.unique(labels))
    if len(distinct) > MAX_CLASSES:
        raise ValueError(
            f"Column {target!r} has {len(distinct)} distinct values: too many to be classes (at most "
            f"{MAX_CLASSES}). Choose regression for a numeric target, or another column."
        )
    if all(_is_number(label) for label in distinct):
        return sorted(distinct, key=lambda s: float(s))
    return sorted(distinct)


def suggest_task(frame: pd.DataFrame, target: str) -> str:
    """``"classification"`` for text labels or few distinct integers, ``"regression"`` otherwise."""
    check_choice(target, "target", [str(c) for c in frame.columns])
    series = frame[target].dropna()
    if series.dtype.kind not in "iufb":
        return "classification"
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
        feature or regression target, missing or infinite values, a constant column, a classification
        target with one class, more than :data:`MAX_CLASSES` classes or non-integer numbers, or an
        unknown positive class.
    """
    columns = [str(c) for c in frame.columns]
    check_choice(task, "task", datasets.TASKS)
    check_choice(target, "target", columns)
    chosen = list(features)
    if not 1 <= len(chosen) <= MAX_FEATURES:
        raise ValueError(f"features must name 1 or {MAX_FEATURES} columns (an exact 2-D landscape needs "
                         f"two parameters), got {len(chosen)}")
    for feature in chosen:
        check_choice(feature, "feature", columns)
        if feature == target:
            raise ValueError(f"Column {feature!r} is the target; a feature must be another column.")
    if len(set(chosen)) != len(chosen):
        raise ValueError(f"features must be distinct columns, got {chosen}")
    X = np.column_stack([_numeric_values(frame, f, "feature") for f in chosen])
    if task == "regression":
        y = _numeric_values(frame, target, "target")
        return datasets.from_arrays(X, y, task="regression", feature_names=chosen, target_name=target,
                                    name=name, standardize_target=True,
                                    description=f"{len(frame):,} rows uploaded as a CSV file.")
    labels = _label_values(frame, target)
    classes = class_labels(frame, target)
    if len(classes) < 2:
        raise ValueError(f"Column {target!r} has only one class ({classes[0]!r}): a classifier needs at "
                         "least two classes to tell apart.")
    if positive_class is None:
        if len(classes) > 2:
            raise ValueError(f"Column {target!r} has {len(classes)} classes ({', '.join(classes)}): choose "
                             "the positive class; logistic regression tells it from all the others.")
        positive_class = classes[1]
    check_choice(positive_class, "positive_class", classes)
    y = (labels == positive_class).astype(np.int64)
    negative = classes[0] if len(classes) == 2 else f"not {positive_class}"
    dataset = datasets.from_arrays(X, y, task="classification", feature_names=chosen, target_name=target,
                                   name=name, description=f"{len(frame):,} rows uploaded as a CSV file.")
    return replace(dataset, class_names=(negative, str(positive_class)))
