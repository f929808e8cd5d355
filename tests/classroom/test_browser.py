"""Tests for classroom.browser: the benchmark's and the browser test's Chromium at low priority
really is at low priority, renderers included (issue 10 §1)."""

import shutil
from pathlib import Path

import pytest

from classroom import browser

AUTOGROUPS = Path("/proc/sys/kernel/sched_autogroup_enabled")


def _renderers() -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and b"--type=renderer" in (entry / "cmdline").read_bytes():
                found.add(int(entry.name))
        except OSError:
            continue
    return found


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian's chromium is not installed")
@pytest.mark.skipif(not AUTOGROUPS.exists() or AUTOGROUPS.read_text().strip() != "1",
                    reason="the kernel does not group processes by session (autogroup)")
def test_a_low_priority_browser_is_lowered_as_a_group(tmp_path):
    """With Linux's autogroups a nice value ranks a process only within its session, and
    Playwright starts the browser in a session of its own: ``nice -n 19`` alone left three
    browsers 1.2 of the 2 cores. The session's group itself must be at 19."""
    from playwright.sync_api import sync_playwright

    before = _renderers()
    with sync_playwright() as playwright:
        chromium = browser.launch(playwright, tmp_path, nice=19)
        try:
            chromium.new_page().goto("data:text/html,<p>a student's page</p>")
            mine = _renderers() - before
            groups = {Path(f"/proc/{pid}/autogroup").read_text().strip() for pid in mine}
        finally:
            chromium.close()
    assert mine, "no renderer process found"
    assert {g.split()[-1] for g in groups} == {"19"}, groups
    # ... and the group lowered is the browser's own, never this process's (the server's);
    # a process in the root group (CI's can be) has no group to lower, and shows none
    own = browser.autogroup()
    if own:
        assert own.split()[0] not in {g.split()[0] for g in groups}, (own, groups)
        assert own.split()[-1] != "19"
    assert browser.scheduling_group(tmp_path) in groups


def test_the_group_note_reads_a_process_in_the_root_group(tmp_path, monkeypatch):
    """CI ran the browser test from a process in the root group, whose ``/proc/self/autogroup``
    is empty: reading it must not fail (it raised IndexError)."""
    monkeypatch.setattr(browser, "autogroup", lambda pid="self": "")
    (tmp_path / browser.GROUP_FILE).write_text("/autogroup-7 nice 19\n")
    assert browser.scheduling_group(tmp_path) == "/autogroup-7 nice 19"
    monkeypatch.setattr(browser, "autogroup", lambda pid="self": "/autogroup-7 nice 19")
    assert browser.scheduling_group(tmp_path).endswith("(this process's own group!)")
    (tmp_path / browser.GROUP_FILE).write_text("")  # the wrapper itself in the root group
    assert browser.scheduling_group(tmp_path) == "the root group (not lowered)"
    assert browser.scheduling_group(tmp_path / "absent") == "unknown"


def test_a_process_that_cannot_be_read_has_no_autogroup():
    assert browser.autogroup(-1) == ""


def test_a_nice_out_of_range_is_refused(tmp_path):
    with pytest.raises(ValueError, match="nice=25 must be an integer from 1 to 19"):
        browser.launch(None, tmp_path, nice=25)


# A page whose step counter runs every 0.1 s until STOP_AFTER_S after its Pause click; the
# button is disabled for the first ENABLED_AFTER_S (a click that takes long to land).
COUNTER_PAGE = """data:text/html,<h3>step 0</h3><button id=b disabled>Pause</button><script>
const h = document.querySelector('h3');
let n = 0, timer = setInterval(() => { h.innerText = 'step ' + (++n); }, 100);
setTimeout(() => { document.getElementById('b').disabled = false; }, ENABLED_AFTER_MS);
document.getElementById('b').onclick = () => setTimeout(() => clearInterval(timer), STOP_AFTER_MS);
</script>"""


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian's chromium is not installed")
@pytest.mark.parametrize(("enabled_after_s", "stop_after_s"), [(0.0, 0.6), (2.5, 0.3)])
def test_pause_latency_counts_from_the_start_of_the_click(tmp_path, enabled_after_s,
                                                          stop_after_s):
    """The latency runs from the click's start to the counter's last change, a slow click
    included: with ten students the Pause click took 6.6 s to reach the server, and the old
    watch, started once the click returned, said 0.00 s (it did here too, for the 2.5 s case)."""
    from playwright.sync_api import sync_playwright

    page_url = (COUNTER_PAGE.replace("ENABLED_AFTER_MS", str(int(enabled_after_s * 1000)))
                .replace("STOP_AFTER_MS", str(int(stop_after_s * 1000))))
    with sync_playwright() as playwright:
        chromium = browser.launch(playwright, tmp_path)
        try:
            page = chromium.new_page()
            page.goto(page_url)
            timing = browser.pause_timing(page, watch_s=1.0)
        finally:
            chromium.close()
    expected = enabled_after_s + stop_after_s
    assert expected - 0.15 <= timing.total_s <= expected + 0.6, (timing, expected)
    # ... and the part before the click reached the page: the disabled button's wait
    assert enabled_after_s - 0.15 <= timing.landed_s <= enabled_after_s + 0.6, timing
