"""Drive the running app in real browser pages, as a class does: for the multi-session browser
test and the app benchmark.

:func:`open_session` opens the app in a fresh Chromium context (one student), :func:`play`
presses Play in it, :func:`sample` reads what the page shows (the step counter, the picture
updates that reached the page and those plotly drew) and :func:`pause_latency` presses Pause and
times, from the click's start, the counter's last change as the page records it. Counters live
in the page: an init script, run in every frame of the context, counts in the top page the
figure messages with a new picture that the component frames receive and the ``Plotly.react``
calls on the picture. ``stub_plotly=True`` serves a no-op plotly.js, so that N browsers on the
server's own machine measure the server, not N software WebGL renderers.
"""

from __future__ import annotations

import shutil
import stat
import time
from dataclasses import dataclass
from pathlib import Path

from classroom.server import CHROMIUM_ARGS

WAIT_MS = 120_000  # a page on a loaded 2-core machine, with 10 sessions playing

# Runs in every frame (the page and the figures' iframe) before the frame's own scripts.
COUNTERS = """
(() => {
  // The counts live in the top page: a figures iframe that Streamlit remounts starts afresh,
  // the page's totals do not (the component's iframe has the page's origin).
  let top = window;
  try { top = window.top; top.__updates; } catch (error) { top = window; }
  if (window === top) { window.__updates = 0; window.__draws = 0; return; }
  let last = null;
  window.addEventListener("message", (event) => {
    const m = event.data;
    if (!m || m.type !== "streamlit:render" || !m.args || !m.args.figures) return;
    const picture = m.args.figures.picture;
    if (picture !== last) { last = picture; top.__updates += 1; }
  });
  let plotly;
  Object.defineProperty(window, "Plotly", {
    configurable: true,
    get() { return plotly; },
    set(value) {
      const react = value.react;
      value.react = function (div, ...rest) {
        if (div && div.id === "picture") top.__draws += 1;
        return react.call(this, div, ...rest);
      };
      plotly = value;
    },
  });
})();
"""
STUB_PLOTLY = "window.Plotly = {react() { return Promise.resolve(); }, purge() {}};"
STEP_JS = ("() => { const h = [...document.querySelectorAll('h3')].find(h => "
           "/^step \\d+$/.test(h.innerText.trim())); return h ? +h.innerText.trim().slice(5) "
           ": null; }")


@dataclass(frozen=True)
class Sample:
    """What one page showed at one moment."""

    time: float  # perf_counter seconds
    step: int  # the step counter shown
    updates: int  # picture messages received by the figures' frame(s) so far
    draws: int  # Plotly.react calls on the picture so far


GROUP_FILE = "chromium-group"  # the wrapper writes its scheduling group here, once lowered


def launch(playwright, folder: Path, nice: int = 0):
    """Debian's chromium through Playwright; ``nice`` (1..19) runs it (and its renderers) at
    that lower priority, so that N browsers on the server's own cores stand in for N students'
    own machines instead of taking the server's CPU.

    A plain ``nice`` is not enough, for two reasons measured on this machine (issue 10):
    Playwright starts the browser in a session of its own, and with Linux's scheduler
    autogroups (``/proc/sys/kernel/sched_autogroup_enabled``) nice values only rank processes
    of the same session, while sessions share the cores evenly; and Chromium, run as root,
    sets its renderers back to nice 0 and its GPU process to -8. With ``nice -n 19`` alone,
    three stubbed browsers still took 1.2 of the 2 cores. So the wrapper also lowers its
    session's autogroup, only where it leads a session of its own (never the caller's), and
    writes the group it got to ``folder / GROUP_FILE`` (:func:`scheduling_group`)."""
    chromium = shutil.which("chromium")
    if chromium is None:
        raise FileNotFoundError("Debian's chromium package is not installed")
    if nice:
        if isinstance(nice, bool) or not isinstance(nice, int) or not 1 <= nice <= 19:
            raise ValueError(f"nice={nice!r} must be an integer from 1 to 19")
        wrapper = folder / "chromium-nice"
        wrapper.write_text(
            "#!/bin/sh\n"
            "if [ \"$(cut -d' ' -f6 /proc/$$/stat)\" = \"$$\" ]; then  # a session of its own\n"
            f"  (echo {nice} > /proc/$$/autogroup) 2>/dev/null\n"
            "fi\n"
            f"cat /proc/$$/autogroup > '{folder / GROUP_FILE}' 2>/dev/null\n"
            f'exec nice -n {nice} {chromium} "$@"\n')
        wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
        chromium = str(wrapper)
    return playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)


def autogroup(pid: int | str = "self") -> str:
    """The Linux scheduler autogroup of a process, e.g. ``/autogroup-946 nice 19``; "" where it
    has none: autogroups off, or a process in the root group, which the kernel shows as an
    empty file (a process of the first session, as in a container started without a login
    session, as CI's can be)."""
    try:
        return Path(f"/proc/{pid}/autogroup").read_text().strip()
    except OSError:
        return ""


def scheduling_group(folder: Path) -> str:
    """The scheduling group a low-priority browser launched with ``folder`` runs in, as its
    wrapper found it (e.g. ``/autogroup-946 nice 19``), and whether that is this process's own
    group; "unknown" without the wrapper's note (no autogroups, or no low priority asked)."""
    try:
        group = (folder / GROUP_FILE).read_text().strip()
    except OSError:
        return "unknown"
    if not group:
        return "the root group (not lowered)"
    mine = autogroup()
    same = bool(mine) and group.split()[0] == mine.split()[0]
    return group + (" (this process's own group!)" if same else "")


def open_session(browser, url: str, stub_plotly: bool = False, viewport=(1600, 1000)):
    """A fresh context and page on ``url`` with the counters installed, the app loaded (the
    counter shows a step)."""
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
    context.add_init_script(COUNTERS)
    if stub_plotly:
        context.route("**/plotly.min.js", lambda route: route.fulfill(
            body=STUB_PLOTLY, content_type="application/javascript"))
    page = context.new_page()
    page.goto(url)
    page.wait_for_function(f"() => ({STEP_JS})() !== null", timeout=WAIT_MS)
    return page


def step(page) -> int:
    """The step counter the page shows (waiting out a moment where a rerun has removed it)."""
    page.wait_for_function(f"() => ({STEP_JS})() !== null", timeout=WAIT_MS)
    value = page.evaluate(STEP_JS)
    return int(value) if value is not None else step(page)


def sample(page) -> Sample:
    """The page's step counter and picture counters, now."""
    updates, draws = page.evaluate("() => [window.__updates, window.__draws]")
    return Sample(time.perf_counter(), step(page), updates, draws)


def play(page) -> None:
    """Press Play; return once the button says Pause."""
    page.get_by_role("button", name="Play").click()
    page.get_by_role("button", name="Pause").wait_for(timeout=WAIT_MS)


def rates(first: Sample, last: Sample) -> dict[str, float]:
    """steps/s, picture updates/s received and drawn between two samples of one page."""
    seconds = last.time - first.time
    return {"steps_per_s": (last.step - first.step) / seconds,
            "updates_per_s": (last.updates - first.updates) / seconds,
            "draws_per_s": (last.draws - first.draws) / seconds}


# Records, in the page, when the step counter last showed a new value (epoch seconds).
WATCH_STEPS_JS = ("() => { const read = " + STEP_JS + """;
  if (window.__stepWatch) window.__stepWatch.disconnect();
  window.__stepChanges = [];
  let last = read();
  window.__stepWatch = new MutationObserver(() => {
    const now = read();
    if (now !== null && now !== last) { last = now; window.__stepChanges.push(Date.now() / 1000); }
  });
  window.__stepWatch.observe(document.body, {subtree: true, childList: true, characterData: true});
  window.__clickAt = null;  // when the next click reached the page
  document.addEventListener("click", () => { window.__clickAt ??= Date.now() / 1000; },
                            {capture: true, once: true});
}""")


@dataclass(frozen=True)
class PauseTiming:
    """One press of Pause, timed from the start of Playwright's click."""

    total_s: float  # until the step counter's last change
    landed_s: float | None  # until the click reached the page (None: not seen)


def pause_timing(page, watch_s: float = 3.0, poll_s: float = 0.05,
                 timeout_s: float = WAIT_MS / 1000) -> PauseTiming:
    """Press Pause; seconds from the start of the click to the last new value of the step
    counter, once the counter has stood still for ``watch_s`` (0 if it never moved after the
    click started), and to the moment the click reached the page. The page itself timestamps
    both, so a click that takes long to land (a starved browser) counts in full: the earlier
    version started watching only once Playwright's click returned, and reported 0.00 s for a
    Pause that took 6.6 s to reach the server. Raises TimeoutError if the counter is still
    moving after ``timeout_s``."""
    page.evaluate(WATCH_STEPS_JS)
    clicked = time.time()  # the page's Date.now() reads the same clock
    page.get_by_role("button", name="Pause").click()
    while True:
        changes, landed = page.evaluate("() => [window.__stepChanges, window.__clickAt]")
        last = max([clicked, *changes])
        now = time.time()
        if now - last >= watch_s:
            return PauseTiming(last - clicked, None if landed is None else landed - clicked)
        if now - clicked > timeout_s:
            raise TimeoutError(f"the step counter still moved {timeout_s:g} s after Pause")
        time.sleep(poll_s)


def pause_latency(page, watch_s: float = 3.0, poll_s: float = 0.05) -> float:
    """:func:`pause_timing`'s total: seconds from the start of the Pause click to the step
    counter's last change."""
    return pause_timing(page, watch_s, poll_s).total_s
