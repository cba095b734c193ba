"""Navigation: Streamlit's own, built once in the entry point from the catalogue (lossviz/ui/catalog.py).

``app.py`` calls :func:`navigation`, so every link, a shared deep link included (``/Momentum?lr=0.5``),
runs through the entry point: the sidebar always lists Home and every page under the same names. What
each page adds to the sidebar below it (the projector-mode switch) is :func:`sidebar`.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from lossviz.ui.catalog import PAGES

__all__ = ["navigation", "sidebar", "through_entry_point"]


def navigation(home: Callable[[], None]) -> Any:
    """The app's pages (Home, then every page that exists) as ``st.navigation``; call ``.run()`` on it.

    The first call in a server process also starts warming the Neural net page's default visit in the
    background (:func:`lossviz.ui.cache.warm_network`), so a link to it opens in seconds.
    """
    from lossviz.ui import cache  # imported here: the kit's modules import this one

    cache.warm_network()
    pages = [st.Page(home, title="Home", default=True)]
    pages += [st.Page(page.path, title=page.title, url_path=page.url_path) for page in PAGES if page.exists]
    return st.navigation(pages, position="sidebar")


def through_entry_point() -> None:
    """Make sure this run came through ``app.py``'s navigation; if not, rerun so that it does.

    A server's first script run takes Streamlit's old ``pages/``-folder path (the folder exists) and runs a
    deep link's page file on its own, without the entry point. That mode lasts only until some run calls
    ``st.navigation``; this rerun is that run, and it lands on the same page (same URL path, same query).
    """
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


def sidebar(page: Any = None) -> None:
    """The page's own sidebar head: the projector-mode switch (large type, prose folded)."""
    from lossviz.ui.page import PRESENT

    through_entry_point()
    st.sidebar.toggle("Projector mode", key=PRESENT.key,
                      help="Large type and the main figure first: for a classroom screen. Kept in the link.")
