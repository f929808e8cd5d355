"""Tests for classroom.live_figures: the component's page and plotly.js are served from one
folder, the page speaks the component protocol, and figure areas are checked."""

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
