"""Two students playing at once on one server, in real browser pages (issue 10 §1): each keeps
a generous share of a lone session's training rate, its picture keeps updating, and Pause acts.

Measured the way a class uses the app: ``streamlit run app.py``, one Chromium context per
student (plotly.js stubbed); steps/s are read from each page's step counter. The lone rate is
taken first on the same server, so a loaded machine slows both. Of the two students, one has a
browser at normal priority (a student's own machine: its Pause is held to the goal, generously)
and one a browser at the lowest priority, standing in for the rest of a class whose own machines
must not take the server's two cores (its Pause, pressed after the student's and mostly the
time the starved page takes to receive the click, is held only to PAUSE_S). After each Pause the
button must say Play again: a page that only stalled does not pass. Before the fix, two
sessions trained 2-4 steps/s each against a lone 126 (2-3 %) and Pause took 7-19 s. Skipped
only where the ``chromium`` executable is missing (``.ci/run`` installs it).
"""

import shutil
import time

import pytest

from classroom import browser
from classroom.server import ServerError, serve

SHARE = 0.25  # each of two sessions keeps >= 25 % of the lone rate (the goal for 3 is 50 %)
MIN_UPDATES_PER_S = 1.0  # the picture of each session keeps updating
PAUSE_S = 3.0  # Pause acts in the lowered browser (before the fix: 7-19 s)
STUDENT_PAUSE_S = 1.0  # ... and in the normal-priority one (goal 0.5 s; measured 0.03-0.36 s)
SETTLE_S = 2.0  # play before measuring
MEASURE_S = 5.0

pytestmark = pytest.mark.skipif(
    shutil.which("chromium") is None, reason="Debian's chromium package is not installed "
    "(apt-get install -y chromium); .ci/run installs it, so CI runs this test")


def _play_and_measure(browsers: list, url: str) -> tuple[list, list[float]]:
    """One session per browser presses Play; their rates over MEASURE_S; then each presses
    Pause in turn, the first with the others still playing, and its latency is taken (from the
    click's start to the last new step shown) and its button must say Play again."""
    pages = [browser.open_session(b, url, stub_plotly=True) for b in browsers]
    try:
        for page in pages:
            browser.play(page)
        time.sleep(SETTLE_S)
        first = [browser.sample(page) for page in pages]
        time.sleep(MEASURE_S)
        rates = [browser.rates(a, browser.sample(page))
                 for a, page in zip(first, pages, strict=True)]
        pauses = []
        for page in pages:
            pauses.append(browser.pause_latency(page, watch_s=PAUSE_S + 1))
            page.get_by_role("button", name="Play").wait_for(timeout=5_000)  # not just stalled
        return rates, pauses
    finally:
        for page in pages:
            page.context.close()


def test_two_sessions_each_keep_a_share_of_the_lone_rate(tmp_path):
    from playwright.sync_api import sync_playwright

    try:
        with serve(tmp_path / "streamlit.log") as url, sync_playwright() as playwright:
            lowered = browser.launch(playwright, tmp_path, nice=19)
            student = browser.launch(playwright, tmp_path)
            try:
                [lone], _ = _play_and_measure([lowered], url)
                two, [student_pause, lowered_pause] = _play_and_measure([student, lowered], url)
            finally:
                student.close()
                lowered.close()
    except ServerError as error:
        pytest.fail(str(error))
    print(f"lone {lone}; two {two}; Pause {student_pause:.2f} s (student's browser), "
          f"{lowered_pause:.2f} s (lowered browser)")
    assert lone["steps_per_s"] > 0
    for rate in two:
        assert rate["steps_per_s"] >= SHARE * lone["steps_per_s"], (lone, two)
        assert rate["updates_per_s"] >= MIN_UPDATES_PER_S, (lone, two)
    assert student_pause <= STUDENT_PAUSE_S, (student_pause, lowered_pause)
    assert lowered_pause <= PAUSE_S, (student_pause, lowered_pause)
