"""Files for slides on every page with a Play button, in a browser: the played figure as a GIF and an MP4
as the page shows it, and a figure as a PNG at projector size and as an SVG (the Explorer's race has its
own test: tests/e2e/test_explorer_slides.py)."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import imageio.v3 as iio
import pytest
from PIL import Image

from bench.browser import PLOTS_SCRIPT
from tests.e2e.conftest import wait_for_app

PAGES = {"Momentum": "lossviz_momentum", "Regularization": "lossviz_regularization",
         "Batch_Size": "lossviz_batch_size"}


@pytest.mark.parametrize("path", PAGES)
def test_the_played_figure_downloads_as_an_animation_and_each_chart_as_an_image(app_url, page, tmp_path,
                                                                               path):
    stem = PAGES[path]
    page.add_init_script(PLOTS_SCRIPT)
    page.goto(f"{app_url}/{path}")
    page.wait_for_function("() => window.__lvPlots().length >= 4", timeout=120_000)
    wait_for_app(page, timeout=60_000)
    played = page.evaluate("() => window.__lvPlots().filter(p => (p._transitionData || {})._frames"
                           " && p._transitionData._frames.length).map(p => p._transitionData._frames.length)")
    assert len(played) >= 1, "no figure with Play frames on the page"
    switch = page.get_by_text("Animation for slides (GIF and MP4)")
    switch.scroll_into_view_if_needed()
    switch.click()
    gif_button = page.get_by_role("button", name="Download animation (GIF)")
    gif_button.wait_for(timeout=120_000)
    with page.expect_download() as download:
        gif_button.click()
    assert download.value.suggested_filename == f"{stem}_animation.gif"
    gif = iio.imread(download.value.path(), index=None)
    assert gif.shape[1:] == (720, 1280, 3) and len(gif) in played  # one picture per Play frame
    assert abs(gif[0].astype(int) - gif[-1].astype(int)).max() > 100  # the paths move
    with page.expect_download() as download:
        page.get_by_role("button", name="Download animation (MP4)").click()
    mp4 = tmp_path / "animation.mp4"
    download.value.save_as(mp4)
    assert iio.improps(mp4, plugin="FFMPEG").shape[1:] == (720, 1280, 3)

    page.get_by_text("Images for slides (PNG 1920 × 1080, SVG)").click()
    with page.expect_download(timeout=60_000) as download:
        page.get_by_role("button", name="PNG").first.click()
    name = download.value.suggested_filename
    assert name.startswith(stem) and name.endswith(".png")
    with Image.open(download.value.path()) as image:
        assert image.size == (1920, 1080)
    with page.expect_download(timeout=60_000) as download:
        page.get_by_role("button", name="SVG").last.click()
    root = ET.parse(download.value.path()).getroot()
    assert root.tag.endswith("svg") and len(root.iter().__next__()) > 0
