"""The Surface Explorer's files for slides, in a browser: the race as a GIF and an MP4, a figure as a PNG."""
from __future__ import annotations

import imageio.v3 as iio
from PIL import Image

from tests.e2e.conftest import save_screenshot, wait_for_app


def test_the_race_downloads_as_a_gif_and_an_mp4_and_the_map_as_a_projector_png(app_url, page, tmp_path):
    page.goto(f"{app_url}/Surface_Explorer")
    wait_for_app(page)
    page.get_by_text("Animation for slides (GIF and MP4)").click()
    # A progress bar while the frames are drawn on the server, then the two downloads.
    page.get_by_role("progressbar").first.wait_for(timeout=30_000)
    gif_button = page.get_by_role("button", name="Download animation (GIF)")
    gif_button.wait_for(timeout=120_000)
    with page.expect_download() as download:
        gif_button.click()
    assert download.value.suggested_filename == "lossviz_race.gif"
    gif = iio.imread(download.value.path(), index=None)
    assert gif.shape == (60, 720, 1280, 3)  # the default race: 60 steps, one frame each and step 0
    assert abs(gif[0].astype(int) - gif[-1].astype(int)).max() > 100
    with page.expect_download() as download:
        page.get_by_role("button", name="Download animation (MP4)").click()
    mp4 = tmp_path / "race.mp4"
    download.value.save_as(mp4)
    assert iio.improps(mp4, plugin="FFMPEG").shape[1:] == (720, 1280, 3)
    save_screenshot(page, "explorer_slides")

    page.get_by_text("Images for slides (PNG 1920 × 1080, SVG)").click()
    with page.expect_download(timeout=60_000) as download:
        page.get_by_role("button", name="PNG").first.click()
    assert download.value.suggested_filename == "lossviz_explorer_contour_map.png"
    with Image.open(download.value.path()) as image:
        assert image.size == (1920, 1080)
