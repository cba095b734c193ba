"""Your own CSV in a page: the uploader, the parsed table kept for this session only, column choices.

The bytes are parsed by :mod:`lossviz.csvdata` in memory; the table lives in ``st.session_state`` (so it
ends with the session, and is dropped as soon as the file is removed) and never in a cache shared
between sessions or on disk.
"""
from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import streamlit as st

from lossviz import csvdata, datasets

__all__ = ["csv_upload", "csv_columns", "keep_choice", "forget"]

_TABLE = "_csv_table"
SESSION_KEYS = (_TABLE, "_csv_explore")


def forget() -> None:
    """Drop everything derived from an uploaded file."""
    for key in SESSION_KEYS:
        st.session_state.pop(key, None)


def csv_upload(key: str = "csv_file"):
    """Draw the uploader; return ``(uploaded file or None, table or None)``; show a refusal as an error."""
    upload = st.file_uploader(
        f"CSV file (≤ {csvdata.MAX_BYTES // 2**20} MB, ≤ {csvdata.MAX_ROWS:,} rows)",
        type=["csv", "tsv", "txt"], key=key, max_upload_size=csvdata.MAX_BYTES // 2**20,
        help="Read in memory for this session only; nothing is stored.",
    )
    if upload is None:
        forget()
        return None, None
    memo = st.session_state.get(_TABLE)
    if memo is None or memo[0] != upload.file_id:
        forget()
        try:
            memo = (upload.file_id, csvdata.read_csv(upload.getvalue()), "")
        except (ValueError, TypeError) as exc:
            memo = (upload.file_id, None, str(exc))
        st.session_state[_TABLE] = memo
    if memo[1] is None:
        st.error(f"{upload.name} was refused: {memo[2]}")
    return upload, memo[1]


def _suggest_task(target_key: str, task_key: str) -> None:
    table = st.session_state[_TABLE][1]
    st.session_state[task_key] = csvdata.suggest_task(table, st.session_state[target_key])


def csv_columns(table: pd.DataFrame, prefix: str = "csv") -> tuple[str, str, list[str], tuple[str, ...]]:
    """Target and task widgets; return ``(target, task, feature candidates, class labels)``.

    The task follows the target (text or few integers: classification) until the user changes it.
    Every other column is a feature candidate (a non-numeric one is refused with its message when
    chosen). Class labels are empty for regression, or when the target cannot be classes (the dataset
    check says why).
    """
    columns = [str(c) for c in table.columns]
    target_key, task_key = f"{prefix}_target", f"{prefix}_task"
    keep_choice(target_key, columns, columns)
    target = st.selectbox("target column", columns, key=target_key, on_change=_suggest_task,
                          args=(target_key, task_key))
    st.session_state.setdefault(task_key, csvdata.suggest_task(table, target))
    task = st.radio("task", datasets.TASKS, key=task_key, horizontal=True)
    classes: tuple[str, ...] = ()
    if task == "classification":
        try:
            classes = tuple(csvdata.class_labels(table, target))
        except ValueError:
            classes = ()
    return target, task, [c for c in columns if c != target], classes


def keep_choice(key: str, options: Sequence[str], known: Sequence[str], last: bool = False) -> None:
    """Keep a selectbox's state among ``options`` before it is drawn (a dataset switch changes them).

    A value that names nothing in ``known`` (a tampered or stale link) gets a visible notice.
    """
    fallback = options[-1] if last else options[0]
    value = st.session_state.get(key)
    if value not in options:
        if value and value not in known:
            st.warning(f"{key}={value!r} is not a choice here; using {fallback!r}.")
        st.session_state[key] = fallback
