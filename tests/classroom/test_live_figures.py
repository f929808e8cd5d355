"""Tests for classroom.live_figures: the component's page and plotly.js are served from one
folder, the page speaks the component protocol, and figure areas are checked; in Chromium, the
picture is drawn as a plain-canvas preview before plotly.js has loaded, then by Plotly."""

import json
import shutil

import pytest

from classroom import live_figures


def test_the_asset_folder_holds_the_page_and_plotly():
    folder = live_figures._asset_dir()
    assert (folder / "index.html").read_text(encoding="utf-8") == live_figures.INDEX_HTML
    plotly_js = (folder / "plotly.min.js").read_text(encoding="utf-8")
    assert "Plotly" in plotly_js[:5000]
    assert len(plotly_js) > 1_000_000
    assert live_figures._asset_dir() == folder  # written once, found again
    assert not list(folder.glob("*.part"))


def test_the_page_speaks_the_component_protocol_and_updates_in_place():
    page = live_figures.INDEX_HTML
    for message in ("streamlit:componentReady", "streamlit:render", "streamlit:setFrameHeight"):
        assert message in page
    assert "Plotly.react" in page
    assert "Plotly.newPlot" not in page
    assert "requestAnimationFrame" in page  # stale frames are dropped, not queued
    for area in live_figures.AREAS:
        assert area in page


def test_an_unknown_area_is_refused():
    with pytest.raises(ValueError, match="sphere"):
        live_figures.live_figures({"sphere": {"data": [], "layout": {}}}, key="k")


# The page in Chromium, fed as Streamlit feeds it, with plotly.js held back: the first frame must
# not wait for plotly.js (4.6 MiB, 1.4-1.8 s to parse on this machine).
HOST = """<!doctype html><html><body style="margin:0">
<iframe id="frame" src="index.html" style="width:1200px;height:10px;border:0"></iframe><script>
const figures = FIGURES, frame = document.getElementById("frame");
window.heights = [];
window.addEventListener("message", (event) => {
  const m = event.data;
  if (m.type === "streamlit:componentReady")
    frame.contentWindow.postMessage({type: "streamlit:render", args: {figures}}, "*");
  if (m.type === "streamlit:setFrameHeight") {
    frame.style.height = m.height + "px"; window.heights.push(m.height);
  }
});
</script></body></html>"""

# In the frame: how many pixels of the preview canvas are drawn, and which colours they have.
PIXELS = """() => {
  const canvas = document.querySelector("#preview canvas");
  const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let drawn = 0; const colours = new Set();
  for (let i = 0; i < data.length; i += 4) {
    if (data[i + 3] === 0) continue;
    drawn += 1;
    colours.add("#" + [0, 1, 2].map(k => data[i + k].toString(16).padStart(2, "0")).join(""));
  }
  return [drawn, [...colours]];
}"""


def _picture(d: int) -> dict:
    import torch

    from classroom import charts

    generator = torch.Generator().manual_seed(d)
    z = torch.randn(charts.MAX_POINTS, d, generator=generator) + 0.3
    labels = torch.arange(charts.MAX_POINTS) % 10
    return charts.representation_figure(z, labels)


@pytest.mark.skipif(shutil.which("chromium") is None,
                    reason="Debian's chromium package is not installed; .ci/run installs it")
@pytest.mark.parametrize("d", [3, 2])
def test_the_picture_is_previewed_before_plotly_js_has_loaded(d):
    """Issue 10 §2: the picture's points drawn on a canvas at once; Plotly takes over after."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    from classroom.server import CHROMIUM_ARGS

    folder = live_figures._asset_dir()
    picture = _picture(d)
    markers = [t for t in picture["data"] if "markers" in t["mode"]]
    points = sum(sum(1 for s in (t["marker"]["size"] if isinstance(t["marker"]["size"], list)
                                 else [t["marker"]["size"]] * len(t["x"])) if s)
                 for t in markers)
    colours = {c for t in markers if isinstance(t["marker"]["color"], list)
               for c in t["marker"]["color"]}
    figures = {"picture": json.dumps(picture),
               "covariance": json.dumps({"data": [{"type": "heatmap", "z": [[1, 0], [0, 1]]}],
                                         "layout": {"height": 200}})}
    held = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=shutil.which("chromium"),
                                             args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1250, "height": 900})
            page.route("http://figures.invalid/", lambda route: route.fulfill(
                body=HOST.replace("FIGURES", json.dumps(figures)), content_type="text/html"))
            page.route("http://figures.invalid/index.html",
                       lambda route: route.fulfill(path=folder / "index.html"))
            page.route("http://figures.invalid/plotly.min.js", lambda route: held.append(route))
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto("http://figures.invalid/", wait_until="commit")
            frame = page.frame_locator("#frame")
            try:
                frame.locator("#preview canvas").wait_for(timeout=20_000)
            except PlaywrightTimeout:
                pytest.fail("no preview canvas within 20 s while plotly.js was held back")
            inner = page.frames[1]
            for _ in range(200):  # plotly.js is asked for once the preview is painted
                if held:
                    break
                page.wait_for_timeout(50)
            assert held, "the page did not ask for plotly.js"
            assert inner.evaluate("() => typeof Plotly") == "undefined"
            assert inner.evaluate("() => +document.getElementById('preview').dataset.points") \
                == points
            drawn, seen = inner.evaluate(PIXELS)
            print(f"d = {d}: {drawn} pixels drawn, {len(seen)} colours; "
                  f"{len(colours & set(seen))} of the {len(colours)} class colours seen")
            assert drawn > 1000
            assert len(colours & set(seen)) >= len(colours) // 2  # the points' own colours
            assert "loading the interactive picture" in frame.locator("#preview").inner_text()
            assert page.evaluate("() => window.heights.at(-1)") >= picture["layout"]["height"]

            held[0].fulfill(path=folder / "plotly.min.js")
            if d == 3:
                canvas = frame.locator("#picture .gl-container canvas").first
                canvas.wait_for(timeout=30_000)
                # The scene is drawn at the screen's pixel ratio (1 here), not plotly's default
                # of 2: four times the pixels, which software WebGL paid on every update.
                width, shown = canvas.evaluate("c => [c.width, c.clientWidth]")
                assert width == shown > 0, (width, shown)
            else:
                frame.locator("#picture .main-svg").first.wait_for(timeout=30_000)
            frame.locator("#covariance .main-svg").first.wait_for(timeout=30_000)
            frame.locator("#preview").wait_for(state="detached", timeout=30_000)
            assert errors == []
        finally:
            browser.close()


def test_while_playing_the_curves_are_held_back_for_half_a_second_and_sent_when_paused():
    """Issue 10 (a class on one Wi-Fi): the curves, 63 of the 94 KB a page receives per update,
    go at most every HOLD_S["curves"] s while playing; None tells the frame to keep its own."""
    figures = {"picture": "p", "curves": "c"}
    sent: dict[str, float] = {}
    assert live_figures.held_back(figures, sent, 10.0, playing=True) == figures  # first: all
    assert live_figures.held_back(figures, sent, 10.3, playing=True) == {"picture": "p",
                                                                        "curves": None}
    assert live_figures.held_back(figures, sent, 10.5, playing=True) == figures  # 0.5 s on
    assert live_figures.held_back(figures, sent, 10.6, playing=False) == figures  # paused


# A host that feeds the frame one message at a time (``window.send``), and a plotly.js stub that
# records which figure each ``Plotly.react`` drew (its layout's title).
SEQUENCE_HOST = """<!doctype html><html><body style="margin:0">
<iframe id="frame" src="index.html" style="width:1200px;height:600px;border:0"></iframe><script>
const frame = document.getElementById("frame");
window.ready = false;
window.send = (...messages) => messages.forEach((figures) => frame.contentWindow.postMessage(
  {type: "streamlit:render", args: {figures}}, "*"));
window.addEventListener("message", (event) => {
  if (event.data.type === "streamlit:componentReady") window.ready = true;
});
</script></body></html>"""
RECORDING_PLOTLY = """window.Plotly = {
  react(div, data, layout) { div.dataset.title = layout.title; return Promise.resolve(); },
  purge() {}};"""


@pytest.mark.skipif(shutil.which("chromium") is None,
                    reason="Debian's chromium package is not installed; .ci/run installs it")
def test_the_frame_keeps_an_area_sent_as_none_and_never_loses_the_latest_text():
    from playwright.sync_api import sync_playwright

    from classroom.server import CHROMIUM_ARGS

    folder = live_figures._asset_dir()

    def fig(title: str) -> str:
        return json.dumps({"data": [], "layout": {"title": title, "height": 100}})

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=shutil.which("chromium"),
                                             args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.route("http://figures.invalid/", lambda route: route.fulfill(
                body=SEQUENCE_HOST, content_type="text/html"))
            page.route("http://figures.invalid/index.html",
                       lambda route: route.fulfill(path=folder / "index.html"))
            page.route("http://figures.invalid/plotly.min.js", lambda route: route.fulfill(
                body=RECORDING_PLOTLY, content_type="application/javascript"))
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto("http://figures.invalid/")
            page.wait_for_function("() => window.ready")
            frame = page.frames[1]
            title = "id => document.getElementById(id)?.dataset.title ?? null"

            def shows(area: str, expected: str | None) -> None:
                frame.wait_for_function(f"() => ({title})('{area}') === {json.dumps(expected)}",
                                        timeout=10_000)

            # A new (or remounted) frame whose first message holds the curves back: no curves
            # yet, the rest drawn.
            page.evaluate(f"() => send({{picture: {json.dumps(fig('p0'))}, curves: null, "
                          f"covariance: {json.dumps(fig('v0'))}}})")
            shows("covariance", "v0")
            assert frame.evaluate(f"() => ({title})('curves')") is None
            page.evaluate(f"() => send({{picture: {json.dumps(fig('p1'))}, "
                          f"curves: {json.dumps(fig('c1'))}}})")
            shows("picture", "p1")
            shows("curves", "c1")
            page.evaluate(f"() => send({{picture: {json.dumps(fig('p2'))}, curves: null}})")
            shows("picture", "p2")
            assert frame.evaluate(f"() => ({title})('curves')") == "c1"  # kept, not removed
            # Two messages at once: the frame draws only the latest, yet the curves that came
            # with the first must not be lost because the second held them back.
            page.evaluate(f"() => send({{picture: {json.dumps(fig('p3'))}, "
                          f"curves: {json.dumps(fig('c2'))}}}, "
                          f"{{picture: {json.dumps(fig('p4'))}, curves: null}})")
            shows("picture", "p4")
            shows("curves", "c2")
            page.evaluate(f"() => send({{picture: {json.dumps(fig('p5'))}}})")  # area left out
            shows("curves", None)
            assert errors == []  # e.g. a null area parsed as a figure
        finally:
            browser.close()
