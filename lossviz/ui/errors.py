"""Turn the library's validation errors into messages on the page instead of tracebacks."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st


@contextmanager
def shown_errors(prefix: str = "") -> Iterator[None]:
    """Run a block; a ValueError or TypeError from the library becomes ``st.error`` with its text.

    The page goes on below the block, so one bad setting never blanks the whole page.
    """
    try:
        yield
    except (ValueError, TypeError) as exc:
        st.error(f"{prefix}{exc}")
