"""Turn the library's validation errors into messages on the page instead of tracebacks."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from lossviz.ui import text


@contextmanager
def shown_errors(prefix: str = "", container=None) -> Iterator[None]:
    """Run a block; a ValueError or TypeError from the library becomes an error notice with its text.

    The message is shown literally (it may quote what the user typed: a formula, a value from a link),
    and the page goes on below the block, so one bad setting never blanks the whole page.
    """
    try:
        yield
    except (ValueError, TypeError) as exc:
        text.notice(f"{prefix}{exc}", "error", container)
