"""Two students playing at once on one server, in real browser pages (issue 10 §1): each keeps
a generous share of a lone session's training rate, its picture keeps updating, and Pause acts.

Measured the way a class uses the app: ``streamlit run app.py``, one Chromium context per
student (plotly.js stubbed and the browsers at low priority, so that two browsers on this
machine's two cores stand in for two students' own machines); steps/s are read from each page's
step counter. The lone rate is taken first on the same server, so a loaded machine slows both.
Before the fix, two sessions trained 2-4 steps/s each against a lone 126 (2-3 %) and Pause took
7-19 s. Skipped only where the ``chromium`` executable is missing (``.ci/run`` installs it).
"""

import shutil
import time

import pytest

from classroom import browser
from classroom.server import ServerError, serve

SHARE = 0.25  # each of two sessions keeps >= 25 % of the lone rate (the goal for 3 is 50 %)
MIN_UPDATES_PER_S = 1.0  # the picture of each session keeps updating
PAUSE_S = 3.0  # Pause acts (the goal is 0.5 s on a quiet machine; before the fix: 7-19 s)
SETTLE_S = 2.0  # play before measuring
MEASURE_S = 5.0

pytestmark = pytest.mark.skipif(
    shutil.which("chromium") is None, reason="Debian's chromium package is not installed "
    "(apt-get install -y chromium); .ci/run installs it, so CI runs this test")


def _play_and_measure(chromium, url: str, n: int) -> tuple[list, list[float]]:
    """``n`` sessions press Play; their rates over MEASURE_S; then each one's Pause latency."""
    pages = [browser.open_session(chromium, url, stub_plotly=True) for _ in range(n)]
    try:
        for page in pages:
            browser.play(page)
        time.sleep(SETTLE_S)
        first = [browser.sample(page) for page in pages]
        time.sleep(MEASURE_S)
        rates = [browser.rates(a, browser.sample(page))
                 for a, page in zip(first, pages, strict=True)]
        pauses = [browser.pause_latency(page, watch_s=PAUSE_S + 1) for page in pages]
        return rates, pauses
    finally:
        for page in pages:
            page.context.close()


def test_two_sessions_each_keep_a_share_of_the_lone_rate(tmp_path):
    from playwright.sync_api import sync_playwright

    try:
        with serve(tmp_path / "streamlit.log") as url, sync_playwright() as playwright:
            chromium = browser.launch(playwright, tmp_path, nice=19)
            try:
                [lone], _ = _play_and_measure(chromium, url, 1)
                two, pauses = _play_and_measure(chromium, url, 2)
            finally:
                chromium.close()
    except ServerError as error:
        pytest.fail(str(error))
    print(f"lone {lone}; two {two}; pauses {pauses}")
    assert lone["steps_per_s"] > 0
    for rate in two:
        assert rate["steps_per_s"] >= SHARE * lone["steps_per_s"], (lone, two)
        assert rate["updates_per_s"] >= MIN_UPDATES_PER_S, (lone, two)
    assert max(pauses) <= PAUSE_S, pauses
