"""lossviz.csvdata: a corpus of bad files, each refused with its own message, and good files read exactly."""
import csv
import io
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lossviz import csvdata


def _table(rows: int = 12) -> bytes:
    return ("x,y,label\n" + "".join(f"{i},{2 * i + 1},{'ab'[i % 2]}\n" for i in range(rows))).encode()


GOOD = _table()

# name -> (file bytes, words the refusal must contain). Each message is different from every other one.
BAD_FILES = {
    "empty": (b"", r"empty \(0 bytes\)"),
    "blank": (b"\n \n\t\n", r"only blank space"),
    "too_large": (b"a,b\n" + b"1,2\n" * (csvdata.MAX_BYTES // 4 + 1), r"limit is 50 MB"),
    "xlsx": (b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 50, r"ZIP archive .*export or save it as CSV"),
    "xls": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 50, r"old Excel \.xls"),
    "gzip": (b"\x1f\x8b\x08\x00" + b"\x00" * 50, r"gzip-compressed"),
    "pdf": (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", r"PDF document"),
    "png": (b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, r"PNG image"),
    "random_junk": (np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes(),
                    r"binary data \(a NUL byte"),
    "nul_in_text": (b"a,b\n1,2\n3,\x004\n" + b"5,6\n" * 10, r"binary data \(a NUL byte at position 10\)"),
    "control_bytes": (b"a,b\n" + b"1,\x01\x02\x03\x04\x05\n" * 20, r"binary data \(\d+ control bytes\)"),
    # UTF-8 ("naïve") with one Latin-1 byte: damaged, not Latin-1 text (which is read).
    "damaged_utf8": (b"name;value\n" + "café;1\n".encode("latin-1") + "naïve;2\n".encode() * 12,
                     r"not UTF-8 text: byte 0xE9 on line 2"),
    "broken_utf16": (b"\xff\xfe" + "a,b\n1,2\n".encode("utf-16-le") + b"\x00", r"starts like UTF-16"),
    "no_header": (b"1.5,2,3\n" + b"4,5,6\n" * 12, r"first line \(1\.5, 2, 3, \.\.\.\) holds numbers"),
    "one_column": (b"value\n" + b"1\n" * 12, r"Only one column was found \(header 'value'"),
    "unnamed_column": (b"a,,c\n" + b"1,2,3\n" * 12, r"Column 2 has no name"),
    "repeated_name": (b"a,b,a\n" + b"1,2,3\n" * 12, r"repeats the column name 'a'"),
    "ragged_row": (b"a,b\n" + b"1,2\n" * 5 + b"1,2,3\n" + b"1,2\n" * 6,
                   r"Line 7 has 3 fields but the header has 2"),
    "long_first_row": (b"a,b\n1,2,3\n" + b"1,2\n" * 12, r"first data row has more fields than the header"),
    "unclosed_quote": (b'a,b\n"1,2\n' + b"3,4\n" * 12, r"quoted value is never closed"),
    "too_few_rows": (_table(rows=9), r"has 9 data row\(s\); at least 10"),
    "too_many_rows": (b"a,b\n" + b"1,2\n" * (csvdata.MAX_ROWS + 1), r"more than 1,000,000 data rows"),
    "too_many_columns": ((",".join(f"c{i}" for i in range(1001)) + "\n").encode() * 2, r"1001 columns"),
}


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_every_bad_file_is_refused_with_its_own_message(name):
    data, words = BAD_FILES[name]
    with pytest.raises(ValueError, match=words):
        csvdata.read_csv(data)


def test_the_corpus_messages_are_all_different():
    messages = set()
    for data, _ in BAD_FILES.values():
        with pytest.raises(ValueError) as info:
            csvdata.read_csv(data)
        messages.add(str(info.value))
    assert len(messages) == len(BAD_FILES)


def test_size_is_checked_before_anything_is_decoded_or_parsed(monkeypatch):
    def boom(*args, **kwargs):
        raise AssertionError("parsed a file over the limit")

    monkeypatch.setattr(pd, "read_csv", boom)
    with pytest.raises(ValueError, match="limit is 50 MB"):
        csvdata.read_csv(b"\xff" * (csvdata.MAX_BYTES + 1))  # undecodable too: size wins


# Streamlit's uploader counts a megabyte as 10**6 bytes ("File must be 50.0MB or smaller" for 50,099,980
# bytes); the app's own check and its messages count the same way, so there is one limit.
@pytest.mark.parametrize("size", [csvdata.MAX_BYTES + 1, 50_099_980, 50 * 2**20, 2 * csvdata.MAX_BYTES])
def test_a_file_over_the_limit_is_refused_stating_the_limit_in_decimal_megabytes(size):
    assert csvdata.MAX_BYTES == 50 * 10**6 and csvdata.size_limit() == "50 MB"
    with pytest.raises(ValueError) as info:
        csvdata.read_csv(b"x" * size)
    message = str(info.value)
    shown = float(re.search(r"The file is ([\d.]+) MB", message).group(1))
    assert shown == pytest.approx(size / 10**6, abs=0.05) and shown > 50  # never "50.0 MB" over "50 MB"
    assert f"({size:,} bytes); the limit is 50 MB (50,000,000 bytes)." in message


@pytest.mark.parametrize("size", [csvdata.MAX_BYTES, csvdata.MAX_BYTES - 1])
def test_a_file_at_the_limit_is_read_not_refused_for_its_size(size):
    body = b"x,y\n" + b"".join(b"%d,%d\n" % (i, 2 * i) for i in range(12))
    data = body + b"\n" * (size - len(body))  # blank lines fill the file to the size
    assert len(data) == size
    with pytest.raises(ValueError) as info:  # the line count refuses it, the size does not
        csvdata.read_csv(data)
    assert "the limit is" not in str(info.value) and "lines; at most" in str(info.value)


def test_text_instead_of_bytes_is_a_type_error():
    with pytest.raises(TypeError, match=r"data must be the file's bytes, got str"):
        csvdata.read_csv("a,b\n1,2\n")
    with pytest.raises(TypeError, match=r"data must be bytes, got int"):
        csvdata.read_csv(5)


# name -> (column choices, words of the refusal). The files themselves are fine; the choices are not.
COLUMN_TABLE = pd.DataFrame({
    "x": np.arange(24.0), "x2": np.sin(np.arange(24.0)), "y": 3.0 * np.arange(24.0) + 1,
    "city": ["Paris", "Lyon"] * 12, "flat": [2.5] * 24, "cls": [0, 1, 2] * 8,
    "one": ["yes"] * 24, "many": [f"c{i}" for i in range(24)], "frac": [0.5, 1.0] * 12,
})
BAD_CHOICES = {
    "non_numeric_feature": (("y", ["city"], "regression"),
                            r"Column 'city' \(feature\) is not numeric: data row 1 holds 'Paris'"),
    "non_numeric_target": (("city", ["x"], "regression"), r"Column 'city' \(target\) is not numeric"),
    "constant_feature": (("y", ["flat"], "regression"),
                         r"Column 'flat' \(feature\) is constant \(every row is 2\.5\)"),
    "constant_target": (("flat", ["x"], "regression"), r"Column 'flat' \(target\) is constant"),
    "one_class": (("one", ["x"], "classification"), r"only one class \('yes'\)"),
    "too_many_classes": (("many", ["x"], "classification"), r"24 distinct values: too many to be classes"),
    "fractional_labels": (("frac", ["x"], "classification"), r"non-integer numbers \(0\.5 on data row 1\)"),
    "needs_positive_class": (("cls", ["x"], "classification"),
                             r"3 classes \(0, 1, 2\): choose the positive class"),
    "target_as_feature": (("y", ["y"], "regression"), r"Column 'y' is the target"),
    "three_features": (("y", ["x", "x2", "flat"], "regression"), r"features must name 1 or 2 columns"),
    "no_features": (("y", [], "regression"), r"features must name 1 or 2 columns .* got 0"),
    "repeated_feature": (("y", ["x", "x"], "regression"), r"features must be distinct columns"),
    "unknown_feature": (("y", ["z"], "regression"), r"unknown feature 'z'; valid names: x, x2, y"),
    "unknown_target": (("q", ["x"], "regression"), r"unknown target 'q'"),
    "unknown_task": (("y", ["x"], "clustering"),
                     r"unknown task 'clustering'; valid names: regression, classification"),
}


@pytest.mark.parametrize("name", list(BAD_CHOICES))
def test_every_bad_column_choice_is_refused_with_its_own_message(name):
    (target, features, task), words = BAD_CHOICES[name]
    with pytest.raises(ValueError, match=words):
        csvdata.to_dataset(COLUMN_TABLE, target, features, task)


def test_unknown_positive_class_lists_the_classes():
    with pytest.raises(ValueError, match=r"unknown positive_class '7'; valid names: 0, 1, 2"):
        csvdata.to_dataset(COLUMN_TABLE, "cls", ["x"], "classification", positive_class="7")


@pytest.mark.parametrize(
    "text, words",
    [
        ("x,y\n" + "1,2\n" * 4 + ",3\n" + "1,2\n" * 3 + "4,\n" + "5,6\n" * 3,
         r"Column 'x' \(feature\) has 1 missing value\(s\), the first on data row 5"),
        ("x,y\n" + "1,2\n" * 4 + "NA,3\n" + "NaN,4\n" + "2,5\n" * 6,
         r"Column 'x' \(feature\) has 2 missing value\(s\), the first on data row 5"),
        ("x,y\n" + "1,2\n" * 3 + "inf,3\n" + "2,5\n" * 8,
         r"Column 'x' \(feature\) holds an infinite value on data row 4"),
        ("x,y\n" + "1,2\n" * 3 + "2,\n" + "2,5\n" * 8,
         r"Column 'y' \(target\) has 1 missing value\(s\), the first on data row 4"),
    ],
)
def test_missing_and_infinite_values_are_located(text, words):
    frame = csvdata.read_csv(text.encode())
    with pytest.raises(ValueError, match=words):
        csvdata.to_dataset(frame, "y", ["x"], "regression")


def test_a_missing_class_label_is_located():
    frame = csvdata.read_csv(("x,label\n" + "1,a\n2,b\n" * 3 + "3,\n" + "4,a\n" * 5).encode())
    words = r"Column 'label' \(target\) has 1 missing label\(s\), the first on data row 7"
    with pytest.raises(ValueError, match=words):
        csvdata.to_dataset(frame, "label", ["x"], "classification")


@pytest.mark.parametrize(
    "encoded",
    [
        GOOD,
        b"\xef\xbb\xbf" + GOOD,  # UTF-8 with a byte-order mark (Excel's "CSV UTF-8")
        GOOD.decode().encode("utf-16"),  # with its BOM
        GOOD.replace(b"\n", b"\r"),  # old Mac
        GOOD.replace(b"\n", b"\r\n"),
        GOOD.replace(b",", b";"),
        GOOD.replace(b",", b"\t"),
        GOOD.replace(b",", b"|"),
        b"\n\n" + GOOD + b"\n\n",
        GOOD.replace(b"x,y,label", b" x , y ,label"),
    ],
    ids=["utf8", "utf8_bom", "utf16", "cr", "crlf", "semicolon", "tab", "pipe", "blank_lines",
         "spaced_header"],
)
def test_good_files_in_every_common_form_give_the_same_table(encoded):
    frame = csvdata.read_csv(encoded)
    assert list(frame.columns) == ["x", "y", "label"]
    np.testing.assert_array_equal(frame["x"].to_numpy(), np.arange(12))
    np.testing.assert_array_equal(frame["y"].to_numpy(), 2 * np.arange(12) + 1)
    assert list(frame["label"].astype(str)) == ["a", "b"] * 6


def test_semicolon_files_with_decimal_commas_are_read_as_numbers():
    text = "x;y\n" + "".join(f"{i},5;{i * 2},25\n" for i in range(12))
    frame = csvdata.read_csv(text.encode())
    np.testing.assert_allclose(frame["x"], np.arange(12) + 0.5)
    np.testing.assert_allclose(frame["y"], 2 * np.arange(12) + 0.25)


def test_quoted_text_with_commas_is_one_field():
    text = 'x,y,city\n' + "".join(f'{i},{i},"Paris, France"\n' for i in range(12))
    frame = csvdata.read_csv(text.encode())
    assert frame.shape == (12, 3) and frame["city"].iloc[0] == "Paris, France"


def test_regression_dataset_standardizes_features_and_target_and_keeps_original_units():
    frame = csvdata.read_csv(GOOD)
    d = csvdata.to_dataset(frame, "y", ["x"], "regression")
    assert d.task == "regression" and d.feature_names == ("x",) and d.target_name == "y"
    np.testing.assert_allclose(d.X.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(d.X.std(axis=0), 1.0, rtol=1e-12)
    np.testing.assert_allclose(d.y.mean(), 0.0, atol=1e-12)
    np.testing.assert_allclose(d.to_original(d.X)[:, 0], np.arange(12), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(d.y_original(), 2 * np.arange(12) + 1, rtol=1e-12)


def test_two_text_classes_become_0_and_1_in_sorted_order():
    frame = csvdata.read_csv(GOOD)
    d = csvdata.to_dataset(frame, "label", ["x", "y"], "classification")
    assert d.class_names == ("a", "b") and d.n_classes == 2
    np.testing.assert_array_equal(d.y, [0, 1] * 6)


def test_a_positive_class_is_told_from_all_the_others():
    d = csvdata.to_dataset(COLUMN_TABLE, "cls", ["x"], "classification", positive_class="2")
    np.testing.assert_array_equal(d.y, (np.arange(24) % 3 == 2).astype(int))
    assert d.class_names == ("not 2", "2")


def test_integer_labels_are_named_without_a_decimal_point():
    frame = pd.DataFrame({"x": np.arange(12.0), "t": np.array([0.0, 1.0] * 6)})
    assert csvdata.class_labels(frame, "t") == ["0", "1"]
    d = csvdata.to_dataset(frame, "t", ["x"], "classification")
    assert d.class_names == ("0", "1")


def test_numeric_labels_sort_as_numbers_not_text():
    frame = pd.DataFrame({"x": np.arange(12.0), "t": [2, 10, 1] * 4})
    assert csvdata.class_labels(frame, "t") == ["1", "2", "10"]


@pytest.mark.parametrize(
    "column, task", [("label", "classification"), ("x", "classification"), ("y", "regression")]
)
def test_task_suggestion_follows_the_target(column, task):
    frame = pd.DataFrame({"label": ["a", "b"] * 6, "x": [0, 1, 2] * 4, "y": np.linspace(0, 1, 12)})
    assert csvdata.suggest_task(frame, column) == task


def test_numeric_columns_lists_numbers_and_booleans_only():
    frame = csvdata.read_csv(("a,b,c,d\n" + "1,2.5,x,True\n" * 6 + "1,2.5,y,False\n" * 6).encode())
    assert csvdata.numeric_columns(frame) == ["a", "b", "d"]


@settings(max_examples=40, deadline=None)
@given(
    values=st.lists(st.tuples(st.floats(-1e6, 1e6, allow_nan=False), st.floats(-1e6, 1e6, allow_nan=False)),
                    min_size=10, max_size=40, unique_by=lambda t: t[0]),
    separator=st.sampled_from([",", ";", "\t", "|"]),
)
def test_a_numeric_table_written_by_pandas_round_trips_exactly(values, separator):
    frame = pd.DataFrame(values, columns=["feature one", "target"])
    frame["target"] = frame["target"] + np.arange(len(frame))  # never constant
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, sep=separator)
    table = csvdata.read_csv(buffer.getvalue().encode())
    d = csvdata.to_dataset(table, "target", ["feature one"], "regression")
    np.testing.assert_allclose(d.to_original(d.X)[:, 0], frame["feature one"], rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(d.y_original(), frame["target"], rtol=1e-12, atol=1e-9)


def test_a_class_label_too_long_to_show_is_refused():
    frame = pd.DataFrame({"x": np.arange(12.0), "t": ["a", "b" * 300] * 6})
    with pytest.raises(ValueError, match=r"'t' holds a class label of 300 characters \('bbbb"):
        csvdata.class_labels(frame, "t")


def test_a_choice_message_lists_a_few_names_quoted_when_they_are_not_plain():
    names = [f"=evil [{i}](http://evil.example) " + "n" * 150 for i in range(1000)]
    frame = pd.DataFrame(np.zeros((12, 1000)), columns=names)
    with pytest.raises(ValueError) as info:
        csvdata.to_dataset(frame, "x" * 500, [names[0]], "regression")
    message = str(info.value)
    assert message.startswith("unknown target " + repr("x" * 40) + "…; valid names: ")
    assert repr(names[0][:40]) + "…" in message and "… (990 more)" in message
    assert len(message) < 1000


# ---- suggest_target


@pytest.mark.parametrize(
    "columns, target, by_name",
    [
        (["height", "weight", "label"], "label", True),  # the issue's example: not "height"
        (["Label", "x"], "Label", True),
        (["x", "TARGET"], "TARGET", True),
        (["class", "x", "y"], "class", True),
        (["x", "y"], "y", True),
        (["x", "y", "label"], "label", True),  # "label" says more than "y"
        (["a", "Outcome", "b"], "Outcome", True),
        (["x", "Y_true"], "Y_true", True),
        (["x", "Class Label", "z"], "Class Label", True),
        (["x", "class-label", "z"], "class-label", True),
        (["price", "Target price", "size"], "Target price", True),
        (["response", "x"], "response", True),
        (["year", "energy"], "energy", False),  # "y" inside a word is no target
        (["a", "b", "c"], "c", False),
    ],
)
def test_the_suggested_target_is_named_like_one_else_the_last_column(columns, target, by_name):
    column, reason = csvdata.suggest_target(pd.DataFrame(columns=columns))
    assert column == target
    assert reason.startswith(repr(target))
    assert ("looks like a target column" in reason) == by_name
    assert ("is the last column" in reason) == (not by_name)


def test_the_suggestion_reason_quotes_a_hostile_name():
    name = "[x](http://evil.example)\n" + "z" * 100
    column, reason = csvdata.suggest_target(pd.DataFrame(columns=["a", name]))
    assert column == name
    assert repr(name[:40]) + "…" in reason and "\n" not in reason


@settings(max_examples=60, deadline=None)
@given(columns=st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=8, unique=True))
def test_the_suggestion_is_always_a_column_with_a_one_line_reason(columns):
    column, reason = csvdata.suggest_target(pd.DataFrame(columns=columns))
    assert column in columns
    assert reason.endswith(".") and "\n" not in reason and len(reason) < 200


def test_a_table_without_columns_has_no_target_to_suggest():
    with pytest.raises(ValueError, match=r"no columns"):
        csvdata.suggest_target(pd.DataFrame())


def test_the_format_is_described_only_for_a_table_read_from_a_file():
    assert csvdata.describe_format(pd.DataFrame({"x": [1]})) == ""
    described = csvdata.describe_format(csvdata.read_csv(GOOD))
    assert described == "Read as UTF-8 text with commas between the values."


# ---- to_csv and escape_cell: formula injection (OWASP) escaped, numbers exact

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
HOSTILE_CELLS = [
    "+cmd|' /C calc'!A0", '=HYPERLINK("http://evil.example","click")', "@SUM(1)", "-2+3", "=1+1",
    "\t=1+1", "\r=1+1", "=", "+", "-", "@", "-1.5x", "--1", "+1+1", "-inf+1", "-0x10", "-\n1",
    "=cmd|' /C notepad'!'A1'", "@\u202e", "-1 ", "+ 1",
]
NUMBER_CELLS = ["-1.5", "-1e-3", "+2", "-inf", "-.5", "+1.5E+10", "-0", "-7."]
HARMLESS_CELLS = [
    "\uff1d1+1", "\ufe661", "\uff0b1", "\uff0d1", "\u22121", " =1+1", "\u200b=1", "height", "a=b", "x-y",
    "'=already quoted", "", "1-2", "é=", "\n=1",
]


@pytest.mark.parametrize("text", HOSTILE_CELLS)
def test_text_a_spreadsheet_would_run_gets_a_leading_quote(text):
    assert csvdata.escape_cell(text) == "'" + text


@pytest.mark.parametrize("text", NUMBER_CELLS + HARMLESS_CELLS)
def test_numbers_and_harmless_text_are_left_alone(text):
    assert csvdata.escape_cell(text) == text


def test_escape_cell_takes_text_only():
    with pytest.raises(TypeError, match=r"text must be a str, got float"):
        csvdata.escape_cell(-1.5)


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=30) | st.from_regex(r"[=+\-@\t\r][0-9e.+\-a-z]{0,6}", fullmatch=True))
def test_an_escaped_cell_never_starts_a_formula_and_keeps_the_text(text):
    escaped = csvdata.escape_cell(text)
    assert escaped in (text, "'" + text)
    if escaped.startswith(TRIGGERS):  # then it is a plain number, nothing else
        assert escaped == text and text == text.strip() and "_" not in text
        float(text)


def _hostile_frame():
    numbers = np.array([-1.5, -1e-3, 0.1 + 0.2, -np.inf, np.inf, 5e-324, -1.7976931348623157e308, 1 / 3])
    cells = (HOSTILE_CELLS + NUMBER_CELLS + HARMLESS_CELLS)[: len(numbers) * 5]
    rows = len(cells)
    return pd.DataFrame({
        "=HYPERLINK(\"http://evil.example\")": np.resize(numbers, rows),
        "+cmd|' /C calc'!A0": cells,
        "-count": np.arange(rows) - 20,
        "\uff1dsafe": ["x"] * rows,
    })


def _expected(text: str) -> str:
    starts_formula = text.startswith(TRIGGERS) and text not in NUMBER_CELLS
    return "'" + text if starts_formula else text


def test_to_csv_escapes_headers_and_text_and_the_csv_module_reads_it_back():
    frame = _hostile_frame()
    records = list(csv.reader(io.StringIO(csvdata.to_csv(frame), newline="")))
    assert records[0] == ["'=HYPERLINK(\"http://evil.example\")", "'+cmd|' /C calc'!A0", "'-count",
                          "\uff1dsafe"]
    assert [r[1] for r in records[1:]] == [_expected(t) for t in frame.iloc[:, 1]]
    numbers = frame.iloc[:, 0].to_numpy()
    assert [float(r[0]) for r in records[1:]] == list(numbers)  # repr precision: exact, infinities kept
    assert [int(r[2]) for r in records[1:]] == list(frame["-count"])
    for record in records:
        for field in record:
            if field.startswith(TRIGGERS):
                float(field)  # only numbers may start like a formula


def test_to_csv_reads_back_with_pandas_as_the_same_numbers_and_escaped_text():
    frame = _hostile_frame()
    back = pd.read_csv(io.StringIO(csvdata.to_csv(frame)), keep_default_na=False,
                       dtype={"'+cmd|' /C calc'!A0": str, "\uff1dsafe": str})
    assert list(back.columns) == ["'=HYPERLINK(\"http://evil.example\")", "'+cmd|' /C calc'!A0", "'-count",
                                  "\uff1dsafe"]
    np.testing.assert_array_equal(back.iloc[:, 0].to_numpy(dtype=float), frame.iloc[:, 0].to_numpy())
    np.testing.assert_array_equal(back.iloc[:, 2].to_numpy(), frame.iloc[:, 2].to_numpy())
    assert list(back.iloc[:, 1]) == [_expected(t) for t in frame.iloc[:, 1]]


@settings(max_examples=60, deadline=None)
@given(values=st.lists(st.floats(allow_nan=False), min_size=1, max_size=30),
       integers=st.integers(-(2**62), 2**62))
def test_float64_values_round_trip_exactly(values, integers):
    frame = pd.DataFrame({"value": np.array(values, dtype=np.float64), "n": integers})
    back = pd.read_csv(io.StringIO(csvdata.to_csv(frame)))
    assert back["value"].dtype == np.float64 and back["n"].dtype == np.int64
    np.testing.assert_array_equal(back["value"].to_numpy(), frame["value"].to_numpy())
    assert (back["n"] == integers).all()


@settings(max_examples=100, deadline=None)
@given(texts=st.lists(st.text(max_size=20), min_size=1, max_size=10))
def test_any_text_reads_back_as_its_escaped_self(texts):
    frame = pd.DataFrame({"t": texts})
    records = list(csv.reader(io.StringIO(csvdata.to_csv(frame), newline="")))
    assert [r[0] if r else "" for r in records[1:]] == [csvdata.escape_cell(t) for t in texts]


def test_labelled_tables_are_stacked_with_their_names_escaped():
    tables = {
        "SGD": pd.DataFrame({"step": [0, 1], "loss": [2.5, -0.125]}),
        "=evil()": pd.DataFrame({"step": [0], "loss": [1.0], "lr": [-0.01]}),
    }
    back = pd.read_csv(io.StringIO(csvdata.to_csv(tables, label="optimizer")))
    assert list(back.columns) == ["optimizer", "step", "loss", "lr"]
    assert list(back["optimizer"]) == ["SGD", "SGD", "'=evil()"]
    np.testing.assert_array_equal(back["loss"], [2.5, -0.125, 1.0])
    assert back["lr"].isna().tolist() == [True, True, False] and back["lr"].iloc[2] == -0.01


def test_a_label_column_escapes_its_own_name():
    back = pd.read_csv(io.StringIO(csvdata.to_csv({"a": pd.DataFrame({"x": [1]})}, label="@who")))
    assert list(back.columns) == ["'@who", "x"]


@pytest.mark.parametrize(
    "tables, label, error, words",
    [
        ({}, "source", ValueError, r"at least one DataFrame"),
        ({"a": pd.DataFrame({"source": [1]})}, "source", ValueError, r"label 'source' is already a column"),
        ({"a": [1, 2]}, "source", TypeError, r"tables\['a'\] must be a DataFrame, got list"),
        ([pd.DataFrame()], "source", TypeError, r"must be a DataFrame or a mapping .* got list"),
    ],
)
def test_to_csv_refuses_what_it_cannot_write(tables, label, error, words):
    with pytest.raises(error, match=words):
        csvdata.to_csv(tables, label=label)


def test_a_grid_with_its_index_round_trips_with_negative_number_headers():
    xs, ys = np.linspace(-2.0, 2.0, 5), np.linspace(-1.0, 1.0, 3)
    grid = pd.DataFrame(np.add.outer(ys, xs ** 2), index=pd.Index(ys, name="y"), columns=xs)
    back = pd.read_csv(io.StringIO(csvdata.to_csv(grid, index=True)), index_col=0)
    assert back.index.name == "y"
    np.testing.assert_array_equal(back.columns.astype(float), xs)
    np.testing.assert_array_equal(back.index.to_numpy(), ys)
    np.testing.assert_array_equal(back.to_numpy(), grid.to_numpy())


def test_an_uploaded_files_hostile_names_are_escaped_on_the_way_out():
    names = ["+cmd|' /C calc'!A0", '=HYPERLINK("http://evil.example")', "-x", "@y"]
    header = ",".join('"' + n.replace('"', '""') + '"' for n in names)
    frame = csvdata.read_csv((header + "\n" + "1,2,3,4\n" * 12).encode())
    assert list(frame.columns) == names
    first = next(csv.reader(io.StringIO(csvdata.to_csv(frame))))
    assert first == ["'" + n for n in names]


def test_cells_of_any_kind_are_written_escaped_or_as_numbers():
    class Formula:
        def __str__(self):
            return "=1+1"

    frame = pd.DataFrame({
        "mixed": pd.Series([Formula(), -2.5, None, "@x", pd.Timestamp("2024-01-02"), True], dtype=object),
        "category": pd.Categorical(["-a", "b", "-a", "+1", "c", "=d"]),
        Formula(): np.arange(6),
    })
    records = list(csv.reader(io.StringIO(csvdata.to_csv(frame), newline="")))
    assert records[0] == ["mixed", "category", "'=1+1"]
    assert [r[0] for r in records[1:]] == ["'=1+1", "-2.5", "", "'@x", "2024-01-02 00:00:00", "True"]
    assert [r[1] for r in records[1:]] == ["'-a", "b", "'-a", "+1", "c", "'=d"]


def test_a_numeric_target_with_stray_text_is_suggested_regression_whose_message_names_the_cell():
    """A walk's upload: numbers with "abc" in every 7th row. Suggested classification, it was refused for
    its 52 distinct values with advice to choose regression, which then named the real problem; the first
    message names it now. Few numbers among text stay classification."""
    values = [f"{0.37 * i:.2f}" if i % 7 != 3 else "abc" for i in range(60)]
    frame = pd.DataFrame({"x": np.arange(60.0), "y": values})
    assert csvdata.suggest_task(frame, "y") == "regression"
    with pytest.raises(ValueError, match=r"not numeric: data row 4 holds 'abc'"):
        csvdata.to_dataset(frame, "y", ["x"], csvdata.suggest_task(frame, "y"))
    mixed = pd.DataFrame({"x": np.arange(60.0), "y": ["0", "1", "none"] * 20})
    assert csvdata.suggest_task(mixed, "y") == "classification"


# ---- values the page's arithmetic cannot take (issue: 1e300 gave "minimum at slope = 0, loss 0", drawn
# from NaN): refused by column, role and row, with the allowed magnitude; everything else is finite.

LIMIT = csvdata.MAX_ABS_VALUE


def _column_table(feature, target) -> pd.DataFrame:
    return csvdata.read_csv(("x,y\n" + "".join(f"{float(a)!r},{float(b)!r}\n"
                                               for a, b in zip(feature, target))).encode())


def test_the_allowed_magnitude_keeps_the_variance_of_the_largest_table_finite():
    worst = np.sum(np.full(csvdata.MAX_ROWS, 2 * LIMIT) ** 2)  # deviations of twice the limit, every row
    with np.errstate(over="ignore"):
        beyond = np.sum(np.full(csvdata.MAX_ROWS, 20 * LIMIT) ** 2)
    assert np.isfinite(worst) and not np.isfinite(beyond)


# A class label is a name, not a number the page computes with: a classification target is not checked.
@pytest.mark.parametrize("role, column, task", [("feature", "x", "regression"), ("target", "y", "regression"),
                                                ("feature", "x", "classification")])
@pytest.mark.parametrize("size", [10 * LIMIT, 1e160, 1e200, 1e300, np.finfo(np.float64).max])
@pytest.mark.parametrize("sign", [1, -1])
def test_a_column_too_large_to_standardize_is_refused_naming_it_and_the_limit(role, column, task, size, sign):
    rows = np.arange(30.0)
    huge = sign * size * np.linspace(0.0, 1.0, 30)
    huge[5] = sign * size  # the first value beyond the limit is on data row 6 at the latest
    frame = _column_table(huge, rows) if role == "feature" else _column_table(rows, huge)
    frame["label"] = ["a", "b"] * 15
    first = int(np.flatnonzero(np.abs(frame[column].to_numpy()) > LIMIT)[0]) + 1
    value = frame[column].iloc[first - 1]
    words = (rf"Column '{column}' \({role}\) holds {value:g} on data row {first}: its values are too large "
             rf"to standardize .* at most {LIMIT:g} in absolute value")
    with pytest.raises(ValueError, match=words.replace("+", r"\+")):
        csvdata.to_dataset(frame, "y" if task == "regression" else "label", ["x"], task)


def test_the_issue_file_is_refused_on_its_first_huge_row():
    frame = _column_table([i * 1e300 for i in range(30)], [2 * i * 1e300 for i in range(30)])
    with pytest.raises(ValueError, match=r"Column 'x' \(feature\) holds 1e\+300 on data row 2: its values "
                                         r"are too large to standardize"):
        csvdata.to_dataset(frame, "y", ["x"], "regression")


@pytest.mark.parametrize(
    "values, words",
    [(5 + np.arange(30) * 1e-300, r"is constant \(every row is 5\)"),  # equal within 1e-300: equal in float64
     (np.arange(30) * 1e-300, r"is nearly constant: its values span only 2\.9e-299"),
     (np.arange(30) * 5e-324, r"is nearly constant"),  # subnormal: the squares underflow to 0
     (1e100 * (1 + 1e-15 * np.arange(30)), r"is nearly constant: .* around 1e\+100"),
     (np.r_[np.zeros(999), 1e-11], r"is nearly constant")],  # spread 1e-11, standard deviation 3e-13
    ids=["equal_within_1e-300", "tiny_values", "subnormal", "relative_1e-15", "one_tiny_outlier"],
)
@pytest.mark.parametrize("role", ["feature", "target"])
def test_a_spread_too_small_to_standardize_is_refused_not_drawn_flat(values, words, role):
    other = np.arange(float(len(values)))
    frame = pd.DataFrame({"x": values, "y": other} if role == "feature" else {"x": other, "y": values})
    column = "x" if role == "feature" else "y"
    with pytest.raises(ValueError, match=rf"Column '{column}' \({role}\) {words}"):
        csvdata.to_dataset(frame, "y", ["x"], "regression")


finite_floats = st.floats(allow_nan=False, allow_infinity=False, width=64)


@settings(max_examples=150, deadline=None)
@given(x=st.lists(finite_floats, min_size=12, max_size=30), seed=st.integers(0, 2**32 - 1),
       task=st.sampled_from(["regression", "classification"]))
def test_any_finite_column_is_refused_or_standardized_to_finite_numbers_without_a_warning(x, seed, task):
    rng = np.random.default_rng(seed)
    y = np.array(x)[rng.permutation(len(x))] * rng.choice([1.0, -1.0])
    frame = pd.DataFrame({"x": x, "y": y, "label": ["a", "b"] * (len(x) // 2) + ["a"] * (len(x) % 2)})
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow to 0 is harmless
        try:
            d = csvdata.to_dataset(frame, "y" if task == "regression" else "label", ["x"], task)
        except ValueError as exc:
            assert str(exc).startswith(("Column 'x' (feature) ", "Column 'y' (target) ")), str(exc)
            return
    for values in (d.X, d.y, d.X_mean, d.X_scale, d.y_mean, d.y_scale):
        assert np.all(np.isfinite(values))
    np.testing.assert_allclose(d.X.std(), 1.0, rtol=1e-6)
    assert np.all(np.abs(frame[["x", "y"] if task == "regression" else ["x"]].to_numpy()) <= LIMIT)
