"""Tests for page.py (the app's page) with Streamlit's AppTest: presets play, the URL configures
the controls and follows them, bad parameters are refused (one summary warning, gone once the
setting changes), lessons, teacher mode, compare, Step xN and Reset, what a first-time student
meets (a hint, a parameter that keeps the preset's name, a refused toggle put back with a reason
in plain words, a notice when a change restarts the run).

A ``run_every`` fragment never ticks in AppTest: while playing, every ``run()`` is one tick.
"""

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from classroom.controls import BY_NAME, CONTROLS, DEFAULTS, from_query
from classroom.lessons import LESSONS
from collapse.recipe import PRESETS

APP = Path(__file__).resolve().parents[1] / "page.py"
TICK_BUDGET = 20  # ticks: 2 s of play at 10 updates/s, at the default settings
COLLAPSED = "**Collapsed**"


def _app(**query: str) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60)
    for name, value in query.items():
        at.query_params[name] = value
    at.run()
    assert not at.exception, at.exception
    return at


def _steps(at: AppTest) -> int:
    (counter,) = [m.value for m in at.markdown if m.value.startswith("### step ")]
    return int(counter.removeprefix("### step "))


def _ticks(at: AppTest) -> int:
    return at.session_state["_run"].ticks


def _play(at: AppTest, ticks: int, until=None) -> AppTest:
    """Press Play, then rerun until ``ticks`` ticks were taken (or ``until(at)`` holds)."""
    start = _ticks(at)
    at.button(key="play").click().run()
    assert at.button(key="play").label == "Pause"
    while _ticks(at) - start < ticks and not (until and until(at)):
        at.run()
        assert not at.exception, at.exception
    return at


def _collapsed(at: AppTest) -> bool:
    return any(e.value.startswith(COLLAPSED) for e in at.error)


def _figures(at: AppTest, index: int = 0) -> dict[str, dict]:
    components = at.get("component_instance")
    args = json.loads(components[index].proto.json_args)
    return {area: json.loads(text) for area, text in args["figures"].items()}


def test_opens_with_simsiam_ready_to_play():
    at = _app()
    assert at.selectbox(key="recipe").value == "simsiam"
    assert at.toggle(key="stop_gradient").value is True
    assert at.button(key="play").label == "Play"
    assert _steps(at) == 0
    assert [s.value.split()[0] for s in at.subheader] == ["simsiam"]
    assert not at.warning
    figures = _figures(at)
    assert {t["type"] for t in figures["picture"]["data"]} == {"scatter3d"}  # d = 3: a sphere
    assert any(t.get("name") == "center o" for t in figures["picture"]["data"])
    assert {"curves", "covariance"} <= set(figures)


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_plays_for_a_few_ticks(name):
    at = _app(recipe=name, batch="32")
    assert at.selectbox(key="recipe").value == name
    _play(at, 3)
    assert _ticks(at) >= 3
    assert _steps(at) >= 3
    assert at.subheader[0].value.startswith(name)


@pytest.mark.parametrize(("query", "expected"), [
    ({"recipe": "no-stop-gradient"}, {"recipe": "no-stop-gradient", "stop_gradient": False,
                                      "predictor": "mlp"}),
    ({"predictor": "bias", "dim": "2"}, {"recipe": "bias-predictor", "predictor": "bias",
                                         "dim": 2, "stop_gradient": True}),
    ({"tau": "0.5", "recipe": "infonce"}, {"recipe": "infonce", "negatives": "infonce",
                                           "predictor": "none", "tau": 0.5}),
])
def test_a_url_configures_the_controls(query, expected):
    at = _app(**query)
    assert not at.warning
    for name, value in expected.items():
        widget = {"choice": at.selectbox, "bool": at.toggle, "int": at.number_input,
                  "float": at.slider}[BY_NAME[name].kind](key=name)
        assert widget.value == value, name
    assert at.subheader[0].value.startswith(expected["recipe"])


def test_no_stop_gradient_collapses_within_the_tick_budget_and_simsiam_does_not():
    at = _play(_app(recipe="no-stop-gradient"), TICK_BUDGET, until=_collapsed)
    assert _collapsed(at), f"no banner after {_ticks(at)} ticks, {_steps(at)} steps"
    at = _play(_app(), TICK_BUDGET)
    assert _ticks(at) >= TICK_BUDGET
    assert not _collapsed(at)
    assert not at.error


@pytest.mark.parametrize(("name", "text"), [
    ("tau", "-1"), ("dim", "abc"), ("recipe", "nope"), ("batch", "1000000000"),
    ("stop_gradient", "maybe"), ("volume", "11")])
def test_a_bad_parameter_is_refused_with_a_warning_and_the_default_is_used(name, text):
    at = _app(**{name: text})
    (warning,) = [w.value for w in at.warning]
    assert warning.startswith("Refused URL value")
    assert repr(text if name in BY_NAME else name) in warning
    assert name not in at.query_params  # the refused value leaves the URL
    if name in BY_NAME:
        control = BY_NAME[name]
        widget = {"choice": at.selectbox, "bool": at.toggle, "int": at.number_input,
                  "float": at.slider}[control.kind](key=name)
        assert widget.value == DEFAULTS[name]
    _play(at, 2)
    assert _steps(at) > 0


def test_an_invalid_combination_in_the_url_falls_back_to_simsiam():
    at = _app(stop_gradient="false", placement="both")
    (warning,) = [w.value for w in at.warning]
    assert "invalid recipe" in warning
    assert at.selectbox(key="recipe").value == "simsiam"
    assert at.toggle(key="stop_gradient").value is True


def test_a_lesson_link_loads_the_lesson_and_the_link_overrides_it():
    at = _app(lesson="1")
    chosen = LESSONS[0]
    info = at.info[0].value  # the lesson, then each side's status
    assert chosen.title in info
    assert chosen.question in info
    assert at.selectbox(key="_lesson").value == chosen.title
    names = [s.value.split()[0] for s in at.subheader]
    assert names == [chosen.settings["recipe"], chosen.settings["compare"]]
    assert len(at.get("component_instance")) == 2
    at = _app(lesson="1", dim="2")
    assert at.number_input(key="dim").value == 2  # the link's value wins over the lesson's
    assert dict(at.query_params) == {"lesson": "1", "dim": "2"}


def test_picking_a_lesson_in_the_sidebar_loads_it():
    at = _app()
    at.selectbox(key="_lesson").select(LESSONS[2].title).run()
    assert not at.exception
    assert at.selectbox(key="recipe").value == LESSONS[2].settings["recipe"]
    assert at.selectbox(key="compare").value == LESSONS[2].settings["compare"]
    assert at.query_params["lesson"] == "3"


def test_a_bad_lesson_is_refused():
    at = _app(lesson="99")
    (warning,) = [w.value for w in at.warning]
    assert "lesson='99'" in warning
    assert not any(LESSONS[0].question in i.value for i in at.info)  # no lesson box


def test_teacher_mode_hides_the_named_controls():
    at = _app(hide="lr,batch")
    keys = {w.key for w in [*at.slider, *at.number_input]}
    assert "lr" not in keys
    assert "batch" not in keys
    assert {"tau", "weight_decay", "dim", "seed"} <= keys
    assert at.query_params["hide"] == "batch,lr"
    _play(at, 2)  # the hidden controls keep their values
    assert at.session_state["lr"] == DEFAULTS["lr"]
    at = _app(hide="lr,nope")
    (warning,) = [w.value for w in at.warning]
    assert "hide=nope" in warning


def test_a_preset_sets_the_toggles_and_a_toggle_shows_custom():
    at = _app()
    at.selectbox(key="recipe").select("no-predictor").run()
    assert at.selectbox(key="predictor").value == "none"
    at.selectbox(key="recipe").select("byol").run()
    assert at.selectbox(key="predictor").value == "mlp"
    assert at.slider(key="ema").value == PRESETS["byol"].recipe.ema
    assert at.slider(key="tau").disabled  # τ is InfoNCE's; BYOL has no negatives
    at.slider(key="decorrelation").set_value(0.5).run()
    assert at.selectbox(key="recipe").value == "custom"  # a regulariser makes a new recipe
    at.selectbox(key="recipe").select("infonce").run()
    assert not at.slider(key="tau").disabled
    at.slider(key="tau").set_value(0.05).run()
    assert at.selectbox(key="recipe").value == "infonce"  # τ is a parameter of infonce
    assert at.subheader[0].value.startswith("infonce, tau = 0.05")
    at.selectbox(key="recipe").select("simsiam").run()
    at.toggle(key="stop_gradient").set_value(False).run()
    assert at.selectbox(key="recipe").value == "no-stop-gradient"  # the preset it now is
    assert not at.exception
    assert at.subheader[0].value.startswith("no-stop-gradient")


def test_an_invalid_toggle_is_put_back_with_a_reason_in_a_students_words():
    at = _app(recipe="byol")
    at.toggle(key="stop_gradient").set_value(False).run()
    assert not at.exception
    assert at.toggle(key="stop_gradient").value is True  # the controls stay those of the run
    assert at.selectbox(key="recipe").value == "byol"
    (warning,) = [w.value for w in at.warning]
    assert "Set the EMA momentum to 0 first" in warning
    assert "back to True" in warning
    assert "ema=0" not in warning
    _play(at, 2)
    assert at.subheader[0].value.startswith("byol")
    at.run()
    assert not at.warning  # said once


def test_the_url_follows_the_controls_and_reproduces_them():
    at = _app()
    at.slider(key="lr").set_value(0.1).run()
    at.number_input(key="seed").set_value(7).run()
    query = dict(at.query_params)
    assert query == {"lr": "0.1", "seed": "7"}
    shared = _app(**query)
    for control in CONTROLS:
        assert shared.session_state[control.name] == at.session_state[control.name]
    assert from_query(query) == ({c.name: at.session_state[c.name] for c in CONTROLS}, [])


def test_compare_mode_trains_two_recipes_in_lock_step():
    at = _app(compare="no-stop-gradient")
    assert [s.value.split()[0] for s in at.subheader] == ["simsiam", "no-stop-gradient"]
    _play(at, 2)
    run = at.session_state["_run"]
    assert [sim.steps for sim in run.sims] == [run.steps] * 2
    assert len(at.get("component_instance")) == 2


def test_step_trains_the_steps_it_names_and_reset_returns_to_zero():
    at = _app()
    assert _steps(at) == 0
    label = at.button(key="step").label
    n = int(re.fullmatch(r"Step ×(\d+)", label).group(1))
    at.button(key="step").click().run()
    assert _steps(at) == n
    at.button(key="step").click().run()
    assert _steps(at) == 2 * n
    at.button(key="reset").click().run()
    assert _steps(at) == 0


def test_every_slider_shows_its_step():
    at = _app()
    for control in CONTROLS:
        if control.kind == "float":
            shown = at.slider(key=control.name).proto.format % control.step
            assert float(shown) == pytest.approx(control.step), control.name


@pytest.mark.parametrize(("dim", "trace"), [("2", "scattergl"), ("16", "scattergl")])
def test_the_picture_follows_the_dimension(dim, trace):
    at = _app(dim=dim)
    picture = _figures(at)["picture"]
    assert {t["type"] for t in picture["data"]} == {trace}
    assert [a["text"] for a in picture["layout"]["annotations"]] == ["o"]
    assert re.search(rf"rank [\d.]+ / {dim} ", at.info[0].value)


def test_a_first_time_student_sees_a_hint_until_playing():
    at = _app()
    (hint,) = [i.value for i in at.info]
    assert hint.startswith("**Press Play** or pick Lesson 1")
    _play(at, 1)
    assert not any("Press Play" in i.value for i in at.info)


def test_a_long_bad_link_gives_one_summary_warning():
    at = _app(**{f"junk{i}": "1" for i in range(110)})
    (warning,) = [w.value for w in at.warning]
    assert "and 107 more" in warning


def test_a_url_warning_goes_once_its_setting_changes():
    at = _app(dim="abc", batch="1000000000")
    (warning,) = [w.value for w in at.warning]
    assert "'abc'" in warning
    assert "1000000000" in warning
    at.number_input(key="dim").set_value(2).run()
    (warning,) = [w.value for w in at.warning]
    assert "'abc'" not in warning  # the dim warning went, the batch one stays
    assert "1000000000" in warning
    at.number_input(key="batch").set_value(64).run()
    assert not at.warning


def test_a_change_that_restarts_the_run_says_so():
    at = _app()
    at.button(key="step").click().run()
    assert _steps(at) > 0
    at.selectbox(key="predictor").select("linear").run()
    assert _steps(at) == 0
    assert any("New run from step 0" in t.value and "Predictor h" in t.value for t in at.toast)
    at.toggle(key="stop_gradient").set_value(False).run()  # switches live: no restart
    assert not any("New run" in t.value for t in at.toast)


def test_lesson_4_shows_p_and_judges_p():
    at = _app(lesson="4")
    assert at.selectbox(key="view").value == "P"
    picture = _figures(at)["picture"]
    assert {t["name"] for t in picture["data"] if t["name"] in ("Z", "P")} == {"P"}
    assert all("std(P)" in i.value for i in at.info[1:])  # both status boxes judge P


def test_the_server_process_never_imports_torch():
    """Only the training workers import torch (classroom/pool.py): the server's imports stay
    light and a cold start's first page does not wait for torch (issue 10 §2)."""
    code = ("import sys\nfrom streamlit.testing.v1 import AppTest\n"
            f"at = AppTest.from_file({str(APP)!r}, default_timeout=120)\n"
            "at.run()\nat.button(key='step').click().run()\n"
            "assert not at.exception, at.exception\n"
            "assert at.session_state['_run'].steps > 0  # trained in a worker, viewed here\n"
            "print(sorted(m for m in ('torch', 'toy.train', 'classroom.live') "
            "if m in sys.modules))\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=APP.parent, capture_output=True,
                          text=True, timeout=300, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_the_pool_starts_before_the_page_imports_anything_else():
    """On a cold server the workers' torch import overlaps the page's own imports (issue 10
    §2): ``start_shared_pool()`` comes before every import but its own module's."""
    body = ast.parse(APP.read_text()).body
    start = next(i for i, node in enumerate(body) if isinstance(node, ast.Assign)
                 and isinstance(node.value, ast.Call)
                 and getattr(node.value.func, "id", None) == "start_shared_pool")
    before = [node.module for node in body[:start] if isinstance(node, ast.ImportFrom)]
    assert before == ["__future__", "classroom.pool"]
    assert not any(isinstance(node, ast.Import) for node in body[:start])


def test_a_bad_worker_count_is_one_line_on_the_page():
    """``CLASSROOM_WORKERS=abc``: the page says so in one line, no traceback (a fresh
    interpreter: the pool is started once per process)."""
    code = ("from streamlit.testing.v1 import AppTest\n"
            f"at = AppTest.from_file({str(APP)!r}, default_timeout=60)\n"
            "at.run()\n"
            "print(bool(at.exception), [e.value for e in at.error])\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=APP.parent, capture_output=True,
                          text=True, timeout=120, env={**os.environ, "CLASSROOM_WORKERS": "abc"})
    assert done.returncode == 0, done.stderr[-2000:]
    last = done.stdout.strip().splitlines()[-1]
    assert last.startswith("False ["), last
    assert "CLASSROOM_WORKERS='abc' must be an integer >= 1" in last
