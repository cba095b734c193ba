"""Data for a page: one of the lesson's datasets or your own CSV file, its columns, what is computed on it.

:func:`data_picker` draws the data controls and returns a :class:`DataChoice`; :func:`explore` runs the
lesson on it, cached. A preset dataset is named in the link (with its size, noise and seed when it is
synthetic); an uploaded file is not. Its bytes are parsed by :mod:`lossviz.csvdata` in memory, and the
table and everything computed from it live in caches scoped to the session
(``st.cache_resource(scope="session")``), keyed by the file's content: Streamlit drops them as soon as the
session disconnects, they are never shared with another session, and removing the file drops them at
once. Only a digest of the content stays in ``st.session_state``. What is computed on the preset datasets
is shared by every session, in bounded caches.

A closed tab's session is kept for reconnecting (``server.disconnectedSessionTTL``: 30 s, set in
.streamlit/config.toml) and freed only when collected, with everything its last run referenced (widget
callbacks, download callbacks, fragments: the page's globals). So nothing there holds the table itself:
pages get an :class:`Upload`, whose table, and the file's bytes that Streamlit's uploader keeps, are
released as soon as its cache entry is dropped (the session disconnects, the file is removed or replaced).
A session that reconnects after a network cut is then asked for the file again.

Column names, class labels and the file's name are user text: they are shown only literally
(:mod:`lossviz.ui.text`), and a refused file says why in a literal notice.
"""
from __future__ import annotations

import hashlib
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import streamlit as st
from streamlit.runtime import Runtime
from streamlit.runtime.scriptrunner import get_script_run_ctx

from lossviz import csvdata, datasets
from lossviz.lessons import models_on_data as lesson
from lossviz.settings import OptimizerSetting
from lossviz.ui import text, url, widgets
from lossviz.ui.url import Field

__all__ = ["DataChoice", "Upload", "SOURCES", "data_fields", "data_picker", "csv_upload", "csv_columns",
           "missing_file_note", "keep_choice", "forget", "explore"]

SOURCES = (*lesson.PRESETS, "csv")


def data_fields(default: str = "linear") -> list[Field]:
    """The link fields of :func:`data_picker`: the dataset, a synthetic one's size, noise and seed, the
    features and the positive class (names are at most as long as :mod:`lossviz.csvdata` reads them)."""
    longest = csvdata.MAX_TEXT_CHARS
    return [url.choice_field("source", default, SOURCES, "dataset"),
            url.int_field("n", 100, 20, 2000, "samples"), url.float_field("noise", 0.5, 0.0, 5.0, "noise"),
            url.int_field("seed", 0, 0, 10_000, "seed"),
            url.int_field("nfeat", 1, 1, 2, "features"), url.text_field("f1", "x", longest, "feature"),
            url.text_field("f2", "", longest, "second feature"),
            url.text_field("positive", "", longest, "positive class (vs the rest)")]


@dataclass(eq=False)
class Upload:
    """An uploaded file of this session, by ``digest`` of its content: its ``table`` (None when refused,
    ``problem`` saying why, and once released), and what holds its bytes (``files``: file id -> weak
    references to every uploaded-file object a run was given: each shares the uploader's bytes until
    closed), released with it."""

    digest: str
    table: pd.DataFrame | None
    problem: str
    session: str
    files: dict = field(default_factory=dict)


def _release(upload: Upload) -> None:
    """Free the table and the bytes: close the opened files, drop the uploader's records."""
    upload.table = None
    for file_id, seen in list(upload.files.items()):
        for ref in seen:
            if (opened := ref()) is not None:
                opened.close()
        try:
            Runtime.instance().uploaded_file_mgr.remove_file(upload.session, file_id)
        except RuntimeError:  # no server (a test run): nothing else holds the bytes
            pass
    upload.files.clear()




@dataclass(frozen=True)
class DataChoice:
    """What :func:`data_picker` chose: a preset (``params`` its size, noise and seed when synthetic) or an
    upload (``digest`` of its content, ``params`` its target and task, ``file`` its :class:`Upload`)."""

    source: str
    task: str
    features: tuple[str, ...]
    positive: str
    classes: tuple[str, ...]
    rows: int
    name: str
    params: tuple = ()
    digest: str = ""
    file: Upload | None = field(default=None, compare=False, hash=False, repr=False)

    @property
    def uploaded(self) -> bool:
        return bool(self.digest)

    @property
    def synthetic(self) -> bool:
        return not self.uploaded and lesson.PRESETS[self.source].synthetic

    @property
    def key(self) -> tuple:
        """Hashable, and the same for the same data (an upload by its content and name)."""
        return (self.source, self.digest, self.name, self.params, self.features, self.positive)

    @property
    def active_keys(self) -> set[str]:
        """The link keys that matter for this choice."""
        keys = {"source", "nfeat", "f1"} | ({"f2"} if len(self.features) == 2 else set())
        keys |= {"positive"} if self.classes else set()
        return keys | ({"n", "noise", "seed"} if self.synthetic else set())


@st.cache_data(max_entries=16, show_spinner=False)
def _preset_info(name: str) -> tuple[list[str], tuple[str, ...], int]:
    """A preset's feature names, its classes when it has more than two (a positive class is asked), rows."""
    data = datasets.get(name)
    return list(data.feature_names), data.class_names if (data.n_classes or 0) > 2 else (), data.n_samples


def _switch() -> None:
    """A newly chosen dataset starts from its own features and classes, not the last one's."""
    source = st.session_state["source"]
    url.apply_values({"nfeat": 1, "f1": "", "f2": "", "positive": ""} if source == "csv"
                     else lesson.dataset_settings(source))


def _title(source: str) -> str:
    return "Your own CSV file" if source == "csv" else lesson.PRESETS[source].title


def data_picker(fields: Mapping[str, Field]) -> DataChoice | None:
    """Draw the data controls (in the current container: the sidebar); return the choice, or None while
    no usable file is uploaded. ``fields`` holds :func:`data_fields` by key."""
    st.header("Data")
    source = widgets.select(fields["source"], format_func=_title, on_change=_switch)
    digest, file = "", None
    if source == "csv":
        file, name = csv_upload()
        if file is None or file.table is None:
            return None
        target, task, candidates, classes = csv_columns(file)
        digest, rows, what = file.digest, len(file.table), "a column of this file"
        params = (("target", target), ("task", task))
    else:
        candidates, classes, rows = _preset_info(source)
        task, name, params = lesson.PRESETS[source].task, _title(source), ()
        what = "a feature of this dataset"
        if lesson.PRESETS[source].synthetic:
            params = (("n_samples", int(widgets.slider(fields["n"], step=10))),
                      ("noise", float(widgets.slider(fields["noise"], step=0.05))),
                      ("seed", int(widgets.number(fields["seed"]))))
            rows = params[0][1]
    keep_choice(fields["nfeat"], (1, 2) if len(candidates) > 1 else (1,), "needs a second feature")
    nfeat = st.radio(fields["nfeat"].title, (1, 2), key="nfeat", horizontal=True,
                     disabled=len(candidates) < 2,
                     format_func=lambda k: "one (w, b)" if k == 1 else "two (w₁, w₂)")
    keep_choice(fields["f1"], candidates, f"is not {what}")
    chosen = [widgets.select(fields["f1"], options=candidates, format_func=text.shorten)]
    if nfeat == 2:
        others = [c for c in candidates if c != chosen[0]]
        keep_choice(fields["f2"], others, f"is not {what} (other than the first feature)")
        chosen.append(widgets.select(fields["f2"], options=others, format_func=text.shorten))
    positive = ""
    if classes:
        keep_choice(fields["positive"], list(classes), "is not a class of this target", last=True)
        positive = widgets.select(fields["positive"], options=list(classes), format_func=text.shorten)
    return DataChoice(source, task, tuple(chosen), positive, tuple(classes), int(rows), name, params, digest,
                      file)


def _digest(upload: Any) -> str:
    """A hash of the file's content, computed once per uploaded file."""
    memo = st.session_state.get("_csv_digest")
    if memo is None or memo[0] != upload.file_id:
        digest = hashlib.blake2b(upload.getvalue(), digest_size=16).hexdigest()
        memo = st.session_state["_csv_digest"] = (upload.file_id, digest)
    return memo[1]


@st.cache_resource(scope="session", max_entries=1, on_release=_release, show_spinner="Reading the file…")
def _parsed(digest: str, _upload: Any) -> Upload:
    ctx = get_script_run_ctx()
    session = ctx.session_id if ctx is not None else ""
    try:
        return Upload(digest, csvdata.read_csv(_upload.getvalue()), "", session)
    except (ValueError, TypeError) as exc:
        return Upload(digest, None, str(exc), session)


def forget() -> None:
    """Drop everything this session computed from an uploaded file (it was removed)."""
    _parsed.clear()
    _explore_upload.clear()
    for key in ("_csv_digest", "_csv_columns_of"):
        st.session_state.pop(key, None)


def csv_upload(key: str = "csv_file") -> tuple[Upload | None, str]:
    """Draw the uploader; return ``(upload, file name)``: None while no file is uploaded; its table None
    when the file was refused (the refusal shown literally, with the file's name)."""
    upload = st.file_uploader(  # the uploader counts MB as csvdata does (10**6 bytes): one limit
        f"CSV file (≤ {csvdata.size_limit()}, ≤ {csvdata.MAX_ROWS:,} rows)",
        type=["csv", "tsv", "txt"], key=key, max_upload_size=csvdata.MAX_BYTES // csvdata.MB,
        help="Read in memory for this session only; nothing is stored.",
    )
    if upload is None:
        forget()
        return None, ""
    parsed = _parsed(_digest(upload), upload)
    seen = parsed.files.setdefault(upload.file_id, [])
    # The widget's state keeps an object of its own: both share the bytes.
    opened = {id(f): f for f in (upload, st.session_state.get(key))
              if getattr(f, "file_id", None) == upload.file_id}
    seen[:] = [*(ref for ref in seen if ref() is not None), *map(weakref.ref, opened.values())]
    if parsed.table is None:
        text.notice(f"{text.quote(upload.name)} was refused: {parsed.problem}", "error")
    else:
        text.literal(csvdata.describe_format(parsed.table))
    return parsed, upload.name


def missing_file_note(key: str = "csv_file") -> str:
    """What the main area says while no usable file is uploaded: the file given was refused (the sidebar
    says why), or none reached the page. A file over the limit never does (the uploader refuses it in the
    browser, and the page sees no file), so the prompt states the limit without claiming a refusal."""
    refused = st.session_state.get(key) is not None
    start = ("The file in the sidebar could not be used (its message is under it). Upload another CSV file"
             if refused else "Upload a CSV file in the sidebar")
    return (f"{start} of at most {csvdata.size_limit()} ({csvdata.MAX_BYTES:,} bytes; the uploader takes no "
            f"larger file): a header row of column names, then {csvdata.MIN_ROWS} to {csvdata.MAX_ROWS:,} "
            "rows of numbers (a text column can be a classification target). It is read in memory for this "
            "session only.")


def _suggest_task(upload: Upload, target_key: str, task_key: str) -> None:
    if upload.table is not None:
        st.session_state[task_key] = csvdata.suggest_task(upload.table, st.session_state[target_key])


def csv_columns(upload: Upload, prefix: str = "csv") -> tuple[str, str, list[str], tuple[str, ...]]:
    """Target and task widgets; return ``(target, task, feature candidates, class labels)``.

    A new file starts from the column :func:`lossviz.csvdata.suggest_target` picks, and the
    page says why it was picked. The task follows the target (text or few integers: classification)
    until the user changes it. Every other column is a feature candidate (a non-numeric one is refused
    with its message when chosen). Class labels are empty for regression, or when the target cannot be
    classes (the dataset check says why).
    """
    table = upload.table
    columns = [str(c) for c in table.columns]
    target_key, task_key = f"{prefix}_target", f"{prefix}_task"
    suggested, reason = csvdata.suggest_target(table)
    new_file = st.session_state.get("_csv_columns_of") != upload.digest
    if new_file or st.session_state.get(target_key) not in columns:
        st.session_state["_csv_columns_of"] = upload.digest
        st.session_state[target_key] = suggested
        st.session_state[task_key] = csvdata.suggest_task(table, suggested)
    target = st.selectbox("target column", columns, key=target_key, on_change=_suggest_task,
                          args=(upload, target_key, task_key), format_func=text.shorten)
    if target == suggested:
        text.literal(f"Target chosen for you: {reason}")
    task = st.radio("task", datasets.TASKS, key=task_key, horizontal=True)
    classes: tuple[str, ...] = ()
    if task == "classification":
        try:
            classes = tuple(csvdata.class_labels(table, target))
        except ValueError:
            classes = ()
    return target, task, [c for c in columns if c != target], classes


def keep_choice(field: Field, options: Sequence, reason: str, last: bool = False,
                format_func: Callable[[Any], str] = str) -> None:
    """Keep a select box's value among ``options`` before it is drawn (a new dataset changes them).

    A value the opened link gave (:func:`lossviz.ui.url.from_link`) that is not among them gets a notice
    naming the setting by its label, ``reason`` completing "it ...", and the option used as the box shows
    it (``format_func``); any other value (a default, the last dataset's choice) quietly becomes the first
    option (the last with ``last``).
    """
    fallback = options[-1] if last else options[0]
    if url.current(field.key) in options:
        return
    if url.from_link(field.key):
        text.notice(url.refuse_link_value(field, reason, format_func(fallback)), "warning")
    st.session_state[field.key] = fallback


def _explore(data: datasets.Dataset, args: tuple) -> lesson.Exploration:
    loss, delta, outliers, size, settings, start, steps = args
    return lesson.explore(data, loss, delta=delta, outliers=outliers, outlier_size=size,
                          settings=list(settings), start=start, steps=steps,
                          multipliers=lesson.LR_MULTIPLIERS)


@st.cache_resource(max_entries=32, show_spinner="Computing the landscape…")
def _explore_preset(key: tuple, args: tuple) -> lesson.Exploration:
    source, _, _, params, features, positive = key
    return _explore(lesson.load_dataset(source, list(features), positive or None, **dict(params)), args)


@st.cache_resource(scope="session", max_entries=4, show_spinner="Computing the landscape…")
def _explore_upload(key: tuple, args: tuple, _file: Upload) -> lesson.Exploration:
    _, _, name, params, features, positive = key
    chosen = dict(params)
    if _file.table is None:
        raise ValueError("The file is no longer in this session's memory: upload it again.")
    data = csvdata.to_dataset(_file.table, chosen["target"], list(features), chosen["task"], positive or None,
                              name)
    return _explore(data, args)


def explore(choice: DataChoice, loss: str, delta: float, outliers: int, outlier_size: float,
            settings: Sequence[OptimizerSetting], start: Sequence[float], steps: int) -> lesson.Exploration:
    """:func:`lossviz.lessons.models_on_data.explore` on the chosen data, with the learning-rate frames.

    Cached: a preset's in a bounded cache every session shares, an upload's in this session's own.
    """
    args = (loss, float(delta), int(outliers), float(outlier_size), tuple(settings),
            (float(start[0]), float(start[1])), int(steps))
    if choice.uploaded:
        return _explore_upload(choice.key, args, choice.file)
    return _explore_preset(choice.key, args)
