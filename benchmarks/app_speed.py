"""Speed of the classroom app, every figure measured in this one run.

``python -m benchmarks.app_speed [--seconds 10] [--memory-ticks 6000] [--sessions 20]
[--concurrent-seconds 20] [--no-browser]`` prints one table against the issue's targets:

1. server-side time per tick at the default settings (d = 3): what the app's fragment does
   each tick (``LiveRun.tick``, the banner, the four figures as the JSON the page receives),
   the updates/s that allows, and the training steps/s of the session at that rate;
2. the no-stop-gradient collapse time in seconds of simulated play (ticks at 10/s: the first
   tick where the banner trips);
3. ``--sessions`` concurrent sessions: as many LiveRuns ticked round-robin by 2 threads of this
   one process (Streamlit serves every session from one process) for ``--concurrent-seconds``,
   and the resident memory each adds;
4. memory (RSS) over simulated play: ``--memory-ticks`` ticks (6000 = 10 minutes at 10/s) with
   the figures drawn, one optimiser step per tick (the history is bounded by ticks, not steps):
   once the history is full, at the end, and the highest sample;
5. time to first render in a real browser (Playwright + Debian's chromium, as in
   tests/test_browser.py): cold (server start -> the page shows "step 0", the first picture
   (the 2-D preview drawn before plotly.js has loaded) and the interactive plotly sphere) and
   warm (the same for fresh browser contexts on the running server);
6. ``--browser-sessions 3,10`` (``--only-sessions``: these rows alone): N Chromium pages on one
   ``streamlit run`` server press Play, plotly.js stubbed, the browsers at the lowest priority
   (they stand in for the students' own machines); then each N again with one of the pages in
   a browser at normal priority (one student's own machine, not starved by the others): each
   page's steps/s, picture updates/s and Pause, read from the pages, the cores that the
   browsers (renderers, GPU processes), the worker and the server used; and one lone page
   with the real plotly.js and its browser's CPU per update.

``--first-picture [--first-picture-repeats N] [--no-options]`` prints only item 5 (N servers,
each one cold page and two warm ones) and, unless ``--no-options``, each option of issue 10 §2
timed on its own.

This machine is shared and noisy (2 cores): the Streamlit overhead of a real session (protobuf,
websocket) is not in items 1-4, which time parts; items 5 and 6 are end to end.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import torch

from classroom import charts, live
from classroom.controls import DEFAULTS, config_of
from classroom.live import LiveRun
from classroom.pace import TICKS_PER_S
from classroom.server import CHROMIUM_ARGS, ServerError, serve
from collapse.recipe import preset


def rss_mib() -> float:
    """Resident memory of this process now (Linux /proc), MiB."""
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def draw(run: LiveRun) -> int:
    """Everything the app's fragment computes after the tick; returns the bytes sent."""
    size = 0
    for index in range(len(run.sims)):
        run.banner(index)
        figures = charts.live_figures_of(run, index)
        size += sum(len(json.dumps(f, separators=(",", ":"), allow_nan=False))
                    for f in figures.values())
    return size


def per_tick(seconds: float) -> dict[str, float]:
    """One session alone at the default settings: ``seconds`` of play, ticked back to back."""
    run = LiveRun([preset(DEFAULTS["recipe"])], config_of(DEFAULTS), DEFAULTS["seed"])
    for _ in range(20):  # warm up (and let the step-time estimate settle)
        run.tick()
        draw(run)
    ticks, trains, draws, steps, size = [], [], [], [], 0
    for _ in range(int(seconds * TICKS_PER_S)):
        start = time.perf_counter()
        steps.append(run.tick())
        middle = time.perf_counter()
        size = draw(run)
        end = time.perf_counter()
        ticks.append(end - start)
        trains.append(middle - start)
        draws.append(end - middle)
    mean = statistics.fmean(ticks)
    rate = min(TICKS_PER_S, 1 / mean)
    return {"tick_ms": 1e3 * mean, "p95_ms": 1e3 * sorted(ticks)[int(0.95 * len(ticks))],
            "train_ms": 1e3 * statistics.fmean(trains), "draw_ms": 1e3 * statistics.fmean(draws),
            "steps_per_tick": statistics.fmean(steps), "updates_per_s": rate,
            "steps_per_s": rate * statistics.fmean(steps), "kib_per_tick": size / 1024}


def collapse_time(max_ticks: int = 100) -> tuple[int, int, float]:
    """(ticks, steps, seconds of play at 10 ticks/s) until the no-stop-gradient banner trips."""
    run = LiveRun([preset("no-stop-gradient")], config_of(DEFAULTS), DEFAULTS["seed"])
    for tick in range(1, max_ticks + 1):
        run.tick()
        if run.banner(0) == "collapsed":
            return tick, run.steps, tick / TICKS_PER_S
    return max_ticks, run.steps, float("inf")

def memory(ticks: int) -> dict[str, float]:
    """RSS over ``ticks`` drawn ticks of one optimiser step each: once the bounded history is
    full (tick ``HISTORY * KNN_EVERY`` fills the kNN curve too, or ``ticks // 2`` if sooner),
    at the end, and the highest sample (every 100 ticks)."""
    full = min(live.HISTORY * live.KNN_EVERY, ticks // 2)
    run = LiveRun([preset(DEFAULTS["recipe"])], config_of(DEFAULTS), DEFAULTS["seed"])
    samples = {}
    start = time.perf_counter()
    for tick in range(1, ticks + 1):
        run.tick(budget_s=0.0)
        draw(run)
        if tick % 100 == 0 or tick in (full, ticks):
            samples[tick] = rss_mib()
    return {"ticks": ticks, "seconds": time.perf_counter() - start, "full_tick": full,
            "rss_full_mib": samples[full], "rss_end_mib": samples[ticks],
            "rss_max_after_full_mib": max(v for t, v in samples.items() if t >= full)}


def concurrent(sessions: int, seconds: float, threads: int = 2) -> dict[str, float]:
    """``sessions`` LiveRuns ticked (and drawn) round-robin by ``threads`` threads."""
    before = rss_mib()
    runs = [LiveRun([preset(DEFAULTS["recipe"])], config_of(DEFAULTS), seed)
            for seed in range(sessions)]
    per_session = (rss_mib() - before) / sessions
    counts = [0] * sessions
    stop = time.perf_counter() + seconds

    def worker(first: int) -> None:
        torch.set_num_threads(1)
        while time.perf_counter() < stop:
            for index in range(first, sessions, threads):
                runs[index].tick()
                draw(runs[index])
                counts[index] += 1

    workers = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    steps = [run.steps for run in runs]
    return {"min_updates_per_s": min(counts) / seconds,
            "mean_updates_per_s": statistics.fmean(counts) / seconds,
            "mean_steps_per_s": statistics.fmean(steps) / seconds, "mib_per_session": per_session}


PREVIEW = "#preview[data-points]"  # the 2-D first frame, drawn before plotly.js has loaded
SCENE = "#picture .gl-container canvas"  # the interactive 3-D picture, drawn by plotly.js
# Runs in the top page: at every animation frame until the plotly scene is there, the
# wall-clock time (ms) at which the figures' frame first shows the preview and the scene. Taken
# in the page, not by polling from here: running plotly.js holds the page's main thread (the
# frame shares it), so a poll from here would see the preview late.
FIRST_PICTURE_JS = """
(() => {
  if (window !== window.top) return;
  const seen = window.__firstPicture = {};
  function poll() {
    for (const frame of document.querySelectorAll("iframe")) {
      const doc = frame.contentDocument;
      if (!doc) continue;
      if (!seen.preview && doc.querySelector(PREVIEW)) seen.preview = Date.now();
      if (!seen.plotly && doc.querySelector(SCENE)) seen.plotly = Date.now();
    }
    if (!seen.plotly) requestAnimationFrame(poll);
  }
  requestAnimationFrame(poll);
})();
""".replace("PREVIEW", json.dumps(PREVIEW)).replace("SCENE", json.dumps(SCENE))


def _first_picture(page, url: str, began: float) -> dict[str, float]:
    """Open ``url`` in ``page`` (its context has :data:`FIRST_PICTURE_JS`); seconds from
    ``began`` (a ``time.time()``) to "step 0", to the first picture (the 2-D preview, or the
    plotly scene where no preview came before it) and to the plotly scene."""
    page.goto(url)
    page.get_by_text("step 0", exact=True).wait_for(timeout=120_000)
    step0 = time.time() - began
    page.wait_for_function("() => window.__firstPicture.plotly !== undefined", timeout=120_000)
    seen = page.evaluate("() => window.__firstPicture")
    plotly = seen["plotly"] / 1e3 - began
    preview = seen["preview"] / 1e3 - began if "preview" in seen else None
    previewed = preview is not None and preview <= plotly
    return {"step0": step0, "picture": preview if previewed else plotly,
            "previewed": float(previewed), "plotly": plotly}


def first_render(warm_pages: int = 2) -> dict[str, object] | str:
    """Seconds from ``streamlit run`` to a page showing "step 0", the first picture (the 2-D
    preview) and the interactive sphere (plotly), cold; and the same from a fresh browser
    context's navigation on the running server, warm (``warm_pages`` fresh contexts)."""
    chromium = shutil.which("chromium")
    if chromium is None:
        return "skipped: Debian's chromium package is not installed"
    from playwright.sync_api import sync_playwright

    start = time.time()  # wall clock: the pages' own timestamps are compared with it
    out: dict[str, object] = {"warm": []}
    try:
        with tempfile.TemporaryDirectory() as tmp, serve(Path(tmp) / "streamlit.log") as url, \
                sync_playwright() as playwright:
            out["health_s"] = time.time() - start
            browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            for page_number in range(1 + warm_pages):
                context = browser.new_context(viewport={"width": 1600, "height": 1000})
                context.add_init_script(FIRST_PICTURE_JS)
                began = start if page_number == 0 else time.time()
                times = _first_picture(context.new_page(), url, began)
                if page_number == 0:
                    out["cold"] = times
                else:
                    out["warm"].append(times)
                context.close()
            browser.close()
    except ServerError as error:
        return f"failed: {str(error).splitlines()[0]}"
    out["load"] = os.getloadavg()[0]
    return out


TORCH_TIMES = """
import json, sys, time
t0 = time.perf_counter()
import torch
t1 = time.perf_counter()
weight = torch.nn.Parameter(torch.randn(64, 64))
weight.grad = torch.randn(64, 64)
velocity = torch.zeros_like(weight)
t2 = time.perf_counter()
with torch.no_grad():  # a plain SGD step with momentum, no torch.optim
    velocity.mul_(0.9).add_(weight.grad)
    weight.add_(velocity, alpha=-0.05)
t3 = time.perf_counter()
optimizer = torch.optim.SGD([weight], lr=0.05, momentum=0.9, foreach=True)
optimizer.step()
t4 = time.perf_counter()
print(json.dumps({"import_torch": t1 - t0, "plain_step": t3 - t2, "optim_first_step": t4 - t3,
                  "dynamo_imported": "torch._dynamo" in sys.modules}))
"""

PICTURE_PAGE = """<!doctype html><html><body><div id="picture" style="width:600px;height:460px">
</div><script>window.t0 = performance.now();</script><script src="plotly.js"></script><script>
window.tParsed = performance.now();
const n = 512, x = [], y = [], z = [], c = [];
for (let i = 0; i < n; i++) {
  const u = Math.random() * 2 - 1, a = Math.random() * 6.283, r = Math.sqrt(1 - u * u);
  x.push(r * Math.cos(a)); y.push(r * Math.sin(a)); z.push(u); c.push(i % 10);
}
const trace = TRACE === "scatter3d" ? {type: "scatter3d", x, y, z} : {type: TRACE, x, y};
Object.assign(trace, {mode: "markers", marker: {size: 3, color: c}});
Plotly.newPlot("picture", [trace], {margin: {l: 0, r: 0, t: 0, b: 0}})
  .then(() => requestAnimationFrame(() => { window.tDrawn = performance.now(); }));
</script></body></html>"""


def first_picture_options(partial_bundle: Path | None) -> list[tuple[str, str, str]]:
    """The parts of a first picture, each option of issue 10 §2 timed on its own: torch's import
    and first optimizer step against a plain update step (fresh interpreters, 2 each), and in
    Chromium the parse of plotly.js (the full bundle the app serves, or ``partial_bundle``)
    and the first drawn picture as a 3-D scene, a 2-D WebGL scatter or a 2-D SVG scatter."""
    rows = []
    runs = [json.loads(subprocess.run([sys.executable, "-c", TORCH_TIMES], check=True,
                                      capture_output=True, text=True).stdout)
            for _ in range(2)]
    rows.append(("option: fresh interpreter, import torch",
                 " / ".join(f"{r['import_torch']:.2f} s" for r in runs), ""))
    rows.append(("option: first torch.optim.SGD step (imports torch._dynamo: "
                 f"{runs[0]['dynamo_imported']}) vs a plain update step",
                 " / ".join(f"{r['optim_first_step']:.2f} s vs {1e3 * r['plain_step']:.1f} ms"
                            for r in runs), ""))
    if shutil.which("chromium") is None:
        return rows
    from playwright.sync_api import sync_playwright

    from classroom import browser
    from classroom.live_figures import _asset_dir

    bundles = {"full": _asset_dir() / "plotly.min.js"}
    if partial_bundle is not None:
        bundles[f"partial ({partial_bundle.name})"] = partial_bundle
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as playwright:
        chromium = browser.launch(playwright, Path(tmp))
        for name, bundle in bundles.items():
            body = bundle.read_bytes()
            traces = ("scatter3d", "scattergl", "scatter") if name == "full" else ("scatter3d",)
            for trace in traces:
                times = []
                for _ in range(2):
                    context = chromium.new_context()
                    context.route("http://bench.invalid/plotly.js",
                                  lambda route, _, b=body: route.fulfill(
                                      body=b, content_type="application/javascript"))
                    context.route("http://bench.invalid/", lambda route, _, t=trace: route.fulfill(
                        body=PICTURE_PAGE.replace("TRACE", json.dumps(t)),
                        content_type="text/html"))
                    page = context.new_page()
                    page.goto("http://bench.invalid/")
                    page.wait_for_function("() => window.tDrawn !== undefined", timeout=120_000)
                    times.append(page.evaluate(
                        "() => [window.tParsed - window.t0, window.tDrawn - window.tParsed]"))
                    context.close()
                rows.append((f"option: plotly.js {name} ({len(body) / 2**20:.1f} MiB) parse; "
                             f"first {trace} of 512 points drawn",
                             " / ".join(f"{p / 1e3:.2f} s; {d / 1e3:.2f} s" for p, d in times),
                             ""))
        chromium.close()
    return rows


def _memory_mib(pid: int) -> dict[str, float]:
    """Resident and private (not shared with any other process) memory of ``pid``, MiB."""
    fields = {}
    with open(f"/proc/{pid}/smaps_rollup") as rollup:
        for line in rollup:
            name, _, rest = line.partition(":")
            if rest.strip().endswith("kB"):
                fields[name] = int(rest.split()[0]) / 1024
    return {"rss": fields["Rss"],
            "private": fields["Private_Clean"] + fields["Private_Dirty"]}


def _children(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` (the app's training workers)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _chromium_type(pid: str) -> str:
    """A Chromium process's ``--type`` ("renderer", "gpu-process", ...; "" for the browser
    process itself). Chromium rewrites its command line as one string, so both NUL and space
    separate the arguments."""
    try:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").split()
    except OSError:
        return ""
    return next((a[7:].decode() for a in args if a.startswith(b"--type=")), "")


def cpu_seconds(server_pid: int) -> dict[str, float]:
    """CPU seconds used so far (user + system, Linux /proc) by the app's server, its training
    workers and every Chromium process on the machine; of the browsers', those of their
    renderers (the pages' JavaScript, Streamlit's and plotly's) and of their GPU processes
    (without a GPU: the 3-D scene's software WebGL) apart too."""
    tick = os.sysconf("SC_CLK_TCK")
    workers = set(_children(server_pid))
    used = {"server": 0.0, "workers": 0.0, "browsers": 0.0, "browser_renderer": 0.0,
            "browser_gpu": 0.0}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat.rsplit(")", 1)[1].split()
        seconds = (int(fields[11]) + int(fields[12])) / tick
        pid = int(entry.name)
        if pid == server_pid:
            used["server"] += seconds
        elif pid in workers:
            used["workers"] += seconds
        elif name.startswith("chrom"):
            used["browsers"] += seconds
            kind = _chromium_type(entry.name)
            if kind in ("renderer", "gpu-process"):
                used["browser_renderer" if kind == "renderer" else "browser_gpu"] += seconds
    return used


def _play_sessions(chromium, url: str, n: int, seconds: float,
                   probe=None) -> dict[str, object]:
    """``n`` fresh contexts press Play; after 2 s their rates over ``seconds``, the cores that
    the server, its workers and the browsers used meanwhile, and the server's and workers'
    memory with the ``n`` sessions open; then each presses Pause in turn, and the time until
    its counter stands is taken: the first page's with the other ``n - 1`` still playing, the
    k-th's with ``n - k`` (those before it have stopped). With ``probe`` (a browser at normal
    priority), the first session opens there and its own figures are returned too
    (``probe_*``): one student's browser that is not starved by the other N - 1."""
    from classroom import browser

    pages = []
    try:
        for index in range(n):
            where = probe if probe is not None and index == 0 else chromium
            pages.append(browser.open_session(where, url, stub_plotly=True))
        for page in pages:
            browser.play(page)
        time.sleep(2.0)
        first = [browser.sample(page) for page in pages]
        cpu_before, began = cpu_seconds(url.pid), time.perf_counter()
        time.sleep(seconds)
        cpu_after, elapsed = cpu_seconds(url.pid), time.perf_counter() - began
        last = [browser.sample(page) for page in pages]
        rates = [browser.rates(a, b) for a, b in zip(first, last, strict=True)]
        workers = [_memory_mib(pid) for pid in _children(url.pid)]
        memory = {"server_rss": _memory_mib(url.pid)["rss"],
                  "server_private": _memory_mib(url.pid)["private"],
                  "workers": len(workers),
                  "worker_rss": max((w["rss"] for w in workers), default=0.0),
                  "worker_private": sum(w["private"] for w in workers)}
        pauses = [browser.pause_timing(page, watch_s=1.5) for page in pages]
    finally:
        for page in pages:
            page.context.close()
    result = {"min_steps": min(r["steps_per_s"] for r in rates),
              "mean_steps": statistics.fmean(r["steps_per_s"] for r in rates),
              "min_updates": min(r["updates_per_s"] for r in rates),
              "max_pause": max(p.total_s for p in pauses),
              "max_pause_landed": _landed(max(pauses, key=lambda p: p.total_s)),
              **{f"cores_{k}": (cpu_after[k] - cpu_before[k]) / elapsed for k in cpu_after},
              "memory": memory}
    if probe is not None:
        others = rates[1:] or rates
        result.update(probe_steps=rates[0]["steps_per_s"],
                      probe_updates=rates[0]["updates_per_s"],
                      probe_pause=pauses[0].total_s, probe_landed=_landed(pauses[0]),
                      others_min_steps=min(r["steps_per_s"] for r in others))
    return result


def _landed(pause) -> float:
    """Seconds until the Pause click reached the page (NaN where the page did not see it)."""
    return float("nan") if pause.landed_s is None else pause.landed_s


def browser_sessions(counts: list[int], seconds: float, repeats: int, nice: int = 19,
                     options: tuple[str, ...] = (),
                     probe: bool = True) -> dict[str, object] | str:
    """End to end, as a class uses the app: one ``streamlit run`` server; for each N in
    ``counts`` (and N = 1, the lone session, measured in the same pass for the ratio), N fresh
    Chromium contexts press Play; after 2 s, each page's step counter and picture updates are
    read for ``seconds``; then each presses Pause and the time until its counter stands is
    taken. Repeated ``repeats`` times. Browsers run at ``nice`` (they stand in for students'
    own machines) with plotly.js stubbed (no software WebGL on the server's cores).

    With ``probe``, each pass then plays every N again with one session in a second browser at
    normal priority (its own session group, like a student's own machine, which the other
    N - 1 lowered browsers do not starve): the lowered browsers get what the server leaves, a
    fraction of a core for all N, so their Pause mostly times a starved page, not the app."""
    if shutil.which("chromium") is None:
        return "skipped: Debian's chromium package is not installed"
    from playwright.sync_api import sync_playwright

    from classroom import browser

    results: dict[int, list[dict[str, float]]] = {n: [] for n in [1, *counts]}
    probed: dict[int, list[dict[str, float]]] = {n: [] for n in counts}
    memory: dict[str, float] = {}
    loads: list[float] = []
    failures: list[str] = []
    with tempfile.TemporaryDirectory() as tmp, \
            serve(Path(tmp) / "streamlit.log", options=options) as url, \
            sync_playwright() as playwright:
        chromium = browser.launch(playwright, Path(tmp), nice)
        group = browser.scheduling_group(Path(tmp))
        student = browser.launch(playwright, Path(tmp)) if probe else None
        for _ in range(repeats):
            for n in [1, *counts]:
                try:
                    results[n].append(_play_sessions(chromium, url, n, seconds))
                except Exception as error:  # e.g. a page not loaded within the wait
                    failures.append(f"{n} sessions: {type(error).__name__}: "
                                    f"{str(error).splitlines()[0]}")
                loads.append(os.getloadavg()[0])
                if n == max(counts) and results[n]:  # read while its sessions were open
                    memory = results[n][-1]["memory"]
            for n in counts if student is not None else ():
                try:
                    probed[n].append(_play_sessions(chromium, url, n, seconds, probe=student))
                except Exception as error:
                    failures.append(f"{n} sessions with a probe: {type(error).__name__}: "
                                    f"{str(error).splitlines()[0]}")
                loads.append(os.getloadavg()[0])
        if student is not None:
            student.close()
        chromium.close()
        # A lone student as the class sees it: real plotly.js, a browser at normal priority.
        chromium = browser.launch(playwright, Path(tmp))
        page = browser.open_session(chromium, url)
        browser.play(page)
        # Once plotly.js has loaded and drawn (its parse holds the page's thread for 1-2 s,
        # during which the step counter lags: counted from then, a pass read 189 steps/s).
        page.wait_for_function("() => window.__draws > 0", timeout=browser.WAIT_MS)
        time.sleep(2.0)
        first, cpu_before = browser.sample(page), cpu_seconds(url.pid)
        time.sleep(seconds)
        last, cpu_after = browser.sample(page), cpu_seconds(url.pid)
        real = browser.rates(first, last)
        real.update({f"cores_{k}": (cpu_after[k] - cpu_before[k]) / (last.time - first.time)
                     for k in cpu_after})
        chromium.close()
    return {"results": results, "probed": probed, "memory": memory, "real": real,
            "load": (min(loads), max(loads)), "group": group,
            "failures": failures}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="play timed per tick")
    parser.add_argument("--memory-ticks", type=int, default=6000, help="6000 = 10 min at 10/s")
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--concurrent-seconds", type=float, default=20.0)
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--browser-sessions", default="2,3,5,10",
                        help="session counts played at once in Chromium (end to end)")
    parser.add_argument("--session-seconds", type=float, default=8.0)
    parser.add_argument("--session-repeats", type=int, default=2)
    parser.add_argument("--only-sessions", action="store_true",
                        help="only the end-to-end multi-session rows")
    parser.add_argument("--first-picture", action="store_true",
                        help="only the first-picture rows: end to end and each option")
    parser.add_argument("--first-picture-repeats", type=int, default=1,
                        help="servers started for the first-picture rows (each: one cold page, "
                             "two warm ones)")
    parser.add_argument("--no-options", action="store_true",
                        help="with --first-picture: only the end-to-end rows")
    parser.add_argument("--plotly-partial", type=Path, default=None,
                        help="a partial plotly.js bundle to time beside the full one (e.g. "
                             "plotly-gl3d.min.js from the plotly.js-gl3d-dist-min package)")
    parser.add_argument("--server-option", action="append", default=[],
                        help="extra 'streamlit run' flag, e.g. --server-option=--runner."
                             "postScriptGC=true (the setting before the fix)")
    args = parser.parse_args(argv)
    try:
        counts = [int(n) for n in args.browser_sessions.split(",") if n]
    except ValueError:
        parser.error(f"--browser-sessions={args.browser_sessions!r}: comma-separated integers")
    if any(n < 1 for n in counts):
        parser.error(f"--browser-sessions={args.browser_sessions!r}: each count must be >= 1")
    if args.first_picture_repeats < 1:
        parser.error(f"--first-picture-repeats={args.first_picture_repeats}: must be >= 1")
    if args.plotly_partial is not None and not args.plotly_partial.is_file():
        parser.error(f"--plotly-partial={str(args.plotly_partial)!r} is not a file")
    # As the app's workers: one thread per process. Only once every flag is valid: a refused
    # flag must leave the caller's process as it was (pytest's runs the full/ tests after).
    torch.set_num_threads(1)
    rows: list[tuple[str, str, str]] = []
    if args.first_picture:
        if not args.no_options:
            rows += first_picture_options(args.plotly_partial)
        rows += first_render_rows(args.first_picture_repeats)
        _print(rows)
        return
    if not args.no_browser:
        rows += session_rows(counts, args.session_seconds, args.session_repeats,
                             tuple(args.server_option))
    if args.only_sessions:
        _print(rows)
        return
    tick = per_tick(args.seconds)
    rows.append(("server time per tick, d = 3 (train + draw)",
                 f"{tick['tick_ms']:.0f} ms (p95 {tick['p95_ms']:.0f}; train "
                 f"{tick['train_ms']:.0f} + draw {tick['draw_ms']:.0f}; "
                 f"{tick['kib_per_tick']:.0f} KiB sent)", "< 100 ms"))
    rows.append(("updates/s, one session", f"{tick['updates_per_s']:.1f}", ">= 10"))
    rows.append(("training steps/s, one session",
                 f"{tick['steps_per_s']:.0f} ({tick['steps_per_tick']:.1f} steps/tick)",
                 ">= 200"))
    ticks, steps, seconds = collapse_time()
    rows.append(("no-stop-gradient collapse, play time",
                 f"{seconds:.1f} s (tick {ticks}, step {steps})", "<= 5 s"))
    many = concurrent(args.sessions, args.concurrent_seconds)
    rows.append((f"{args.sessions} sessions, 2 threads: updates/s per session",
                 f"min {many['min_updates_per_s']:.1f}, mean {many['mean_updates_per_s']:.1f} "
                 f"({many['mean_steps_per_s']:.0f} steps/s and {many['mib_per_session']:.1f} MiB "
                 f"each)", ">= 2"))
    mem = memory(args.memory_ticks)
    rows.append((f"RSS over {mem['ticks']} drawn ticks ({mem['ticks'] / TICKS_PER_S / 60:.0f} "
                 f"min of play; ran in {mem['seconds']:.0f} s)",
                 f"{mem['rss_full_mib']:.0f} MiB at tick {mem['full_tick']} (history full), "
                 f"{mem['rss_end_mib']:.0f} at the end, max {mem['rss_max_after_full_mib']:.0f}",
                 "flat"))
    if not args.no_browser:
        rows += first_render_rows()
    _print(rows)


def first_render_rows(repeats: int = 1) -> list[tuple[str, str, str]]:
    """The end-to-end first-render rows (:func:`first_render`), ``repeats`` servers."""
    renders = []
    for _ in range(repeats):
        try:
            render = first_render()
        except Exception as error:  # a browser failure still prints the other figures
            render = f"failed: {type(error).__name__}: {str(error).splitlines()[0]}"
        if isinstance(render, str):
            return [("first render in the browser", render, "<= 3 s")]
        renders.append(render)

    def pictures(runs: list[dict[str, float]], key: str) -> str:
        return " / ".join(f"{r[key]:.1f} s" + ("" if key != "picture" or r["previewed"]
                                               else " (no preview: plotly first)")
                          for r in runs)

    cold = [r["cold"] for r in renders]
    warm = [w for r in renders for w in r["warm"]]
    return [("server start -> /_stcore/health ok",
             " / ".join(f"{r['health_s']:.1f} s" for r in renders), ""),
            ("cold (server start ->): 'step 0' shown, end to end", pictures(cold, "step0"), ""),
            ("cold: first picture (2-D preview), end to end", pictures(cold, "picture"),
             "<= 6 s"),
            ("cold: first interactive picture (plotly sphere), end to end",
             pictures(cold, "plotly"), ""),
            ("warm (new page on the running server ->): 'step 0' shown, end to end",
             pictures(warm, "step0"), ""),
            ("warm: first picture (2-D preview), end to end", pictures(warm, "picture"),
             "<= 3 s"),
            ("warm: first interactive picture (plotly sphere), end to end",
             pictures(warm, "plotly"), ""),
            ("load average (1 min) at the end of each server's pages",
             " / ".join(f"{r['load']:.1f}" for r in renders), "")]


def _per_update_ms(rates: dict[str, float]) -> str:
    """The browser's CPU per picture update received, in ms ("n/a" if none arrived)."""
    if rates["updates_per_s"] <= 0:
        return "n/a"
    return f"{1000 * rates['cores_browsers'] / rates['updates_per_s']:.0f} ms"


def _pause(result: dict[str, float]) -> str:
    """The slowest Pause of a pass, and how much of it passed before the click reached the page
    (a starved browser's share, not the server's)."""
    return (f"{result['max_pause']:.2f} s ({result.get('max_pause_landed', float('nan')):.2f} "
            "s to land)")


def session_rows(counts: list[int], seconds: float, repeats: int,
                 options: tuple[str, ...]) -> list[tuple[str, str, str]]:
    """The end-to-end rows of :func:`browser_sessions`: per N, the slowest session's steps/s
    as a share of the lone session's in the same pass (each pass's figure), the slowest
    picture update rate and the slowest Pause; then the cores the browsers, the workers and the
    server used meanwhile (a class whose sessions lag shows here which one took the cores)."""
    try:
        measured = browser_sessions(counts, seconds, repeats, options=options)
    except Exception as error:  # a browser failure still prints the other figures
        measured = f"failed: {type(error).__name__}: {str(error).splitlines()[0]}"
    if isinstance(measured, str):
        return [("sessions in Chromium (end to end)", measured, "")]
    results = measured["results"]
    lone = [r["mean_steps"] for r in results[1]]
    rows = [("1 session in Chromium, end to end: steps/s; updates/s; Pause (time to land)",
             " / ".join(f"{s:.0f}" for s in lone) + "; "
             + " / ".join(f"{r['min_updates']:.1f}" for r in results[1]) + "; "
             + " / ".join(_pause(r) for r in results[1]), "10 updates/s")]
    real = measured["real"]
    rows.append(("1 session, real plotly.js in Chromium, end to end: steps/s; picture updates "
                 "received/s; drawn/s; the browser's cores (its renderers; its GPU process); "
                 "its CPU per update",
                 f"{real['steps_per_s']:.0f}; {real['updates_per_s']:.1f}; "
                 f"{real['draws_per_s']:.1f}; {real['cores_browsers']:.2f} "
                 f"({real['cores_browser_renderer']:.2f}; {real['cores_browser_gpu']:.2f}); "
                 f"{_per_update_ms(real)}", "10 updates/s"))
    goals = {3: ">= 50 %, >= 3/s", 10: ">= 15 %, >= 1/s"}
    for n in counts:
        if len(results[n]) != len(lone):  # a pass failed for this N (or the lone session)
            rows.append((f"{n} sessions in Chromium, end to end", "incomplete: "
                         + "; ".join(measured["failures"]), ""))
            continue
        shares = [r["min_steps"] / base for r, base in zip(results[n], lone, strict=True)]
        rows.append((f"{n} sessions in Chromium, end to end: slowest session's steps/s "
                     "(% of lone); updates/s; slowest Pause, the pages pressing it in turn "
                     "(its click's time to reach the page)",
                     " / ".join(f"{r['min_steps']:.0f} ({100 * share:.0f} %)"
                                for r, share in zip(results[n], shares, strict=True)) + "; "
                     + " / ".join(f"{r['min_updates']:.1f}" for r in results[n]) + "; "
                     + " / ".join(_pause(r) for r in results[n]),
                     goals.get(n, "") + ("; Pause <= 0.5 s" if n in goals else "")))
    for n in counts:  # one student's browser at normal priority among N - 1 lowered ones
        passes = measured["probed"].get(n, [])
        if len(passes) != len(lone):
            continue  # no probe passes asked for, or one failed (in the failures above)
        rows.append((f"{n} sessions, one of them in a browser at normal priority (a student's "
                     f"own machine), the other {n - 1} lowered, end to end: its steps/s (% of "
                     "lone); updates/s; Pause (time to land); the lowered ones' slowest steps/s",
                     " / ".join(f"{r['probe_steps']:.0f} ({100 * r['probe_steps'] / base:.0f} %)"
                                for r, base in zip(passes, lone, strict=True)) + "; "
                     + " / ".join(f"{r['probe_updates']:.1f}" for r in passes) + "; "
                     + " / ".join(f"{r['probe_pause']:.2f} s ({r['probe_landed']:.2f} s)"
                                  for r in passes) + "; "
                     + " / ".join(f"{r['others_min_steps']:.0f}" for r in passes),
                     goals.get(n, "") + ("; Pause <= 0.5 s" if n in goals else "")))
    for n in [1, *counts]:  # where the cores went while the sessions played
        if len(results[n]) == len(lone):
            rows.append((f"{n} session{'s' if n > 1 else ''}: cores used by the browsers (of "
                         "them, renderers; GPU processes); the training workers; the server",
                         " / ".join(f"{r['cores_browsers']:.2f} ({r['cores_browser_renderer']:.2f}"
                                    f"; {r['cores_browser_gpu']:.2f})" for r in results[n])
                         + "; " + "; ".join(" / ".join(f"{r[f'cores_{k}']:.2f}"
                                                       for r in results[n])
                                            for k in ("workers", "server")), ""))
    mem = measured["memory"]
    if mem:
        rows.append((f"memory with {max(counts)} sessions open: server; {mem['workers']:.0f} "
                     "training workers",
                     f"server RSS {mem['server_rss']:.0f} MiB ({mem['server_private']:.0f} "
                     f"private); workers RSS {mem['worker_rss']:.0f} MiB each, "
                     f"{mem['worker_private']:.0f} MiB private together", ""))
    low, high = measured["load"]
    rows.append(("load average (1 min) during those rows", f"{low:.1f}-{high:.1f}", ""))
    rows.append(("the stubbed browsers' scheduling group (Linux autogroup)", measured["group"],
                 "its own, at nice 19"))
    return rows


def _print(rows: list[tuple[str, str, str]]) -> None:
    width = max(len(r[0]) for r in rows)
    value_width = max(len(r[1]) for r in rows)
    print(f"{'measure':{width}}  {'measured':{value_width}}  target")
    for name, value, target in rows:
        print(f"{name:{width}}  {value:{value_width}}  {target}")


if __name__ == "__main__":
    main()
