"""Tests for classroom.lessons: every lesson loads valid presets and controls; bad numbers raise;
every lesson, played for the time its text implies, shows the outcome its text states on both
sides; the README's headline (switch stop-gradient off mid-run) holds as it is worded.

The lessons are played by stepping their LiveRun directly (as the app's ticks do, without the
browser): ``watch_s`` seconds at the slowest and the fastest rate of
:data:`CLASSROOM_STEPS_PER_S` give the range of steps over which the banners must read as the
text says.
"""

import pytest

from classroom.controls import BY_NAME, config_of, from_query, recipe_of
from classroom.lessons import CLASSROOM_STEPS_PER_S, LESSONS, lesson
from classroom.live import LiveRun
from collapse.recipe import PRESETS, preset

CHECK_EVERY = 25  # steps between two looks at the banners


@pytest.mark.parametrize("chosen", LESSONS, ids=lambda x: x.title)
def test_every_lesson_names_a_preset_and_valid_controls(chosen):
    assert chosen.settings["recipe"] in PRESETS
    assert chosen.settings.get("compare", "none") in ("none", *PRESETS)
    for name, value in chosen.settings.items():
        assert name in BY_NAME, name
        assert BY_NAME[name].parse(str(value).lower() if isinstance(value, bool) else str(value)
                                   ) == value
    values, warnings = from_query({}, chosen.settings)  # what ?lesson=n loads
    assert warnings == []
    assert recipe_of(values) == preset(chosen.settings["recipe"])
    assert values["recipe"] == chosen.settings["recipe"]
    assert chosen.watch
    assert chosen.question.endswith("?")
    assert chosen.section


def test_lessons_are_numbered_from_one_in_order():
    assert [lesson(n) for n in range(1, len(LESSONS) + 1)] == list(LESSONS)
    assert [x.title.split(".")[0] for x in LESSONS] == [str(n) for n in range(1, len(LESSONS) + 1)]


@pytest.mark.parametrize("number", [0, -1, len(LESSONS) + 1, 99])
def test_a_lesson_out_of_range_raises(number):
    with pytest.raises(ValueError, match=f"lesson={number} is not in 1..{len(LESSONS)}"):
        lesson(number)


def _banners(run: LiveRun, view: str) -> tuple[str, ...]:
    """What each side's banner reads: 'collapsed' or 'spread' (the app's two readings)."""
    return tuple("collapsed" if run.banner(i, view) == "collapsed" else "spread"
                 for i in range(len(run.sims)))


@pytest.mark.parametrize("chosen", LESSONS, ids=lambda x: x.title)
def test_every_lesson_shows_its_outcome_on_both_sides_for_the_time_it_implies(chosen,
                                                                           one_thread):
    values, _ = from_query({}, chosen.settings)
    run = LiveRun([recipe_of(values), preset(values["compare"])], config_of(values),
                  values["seed"])
    view = values["view"].lower()
    first, last = (round(chosen.watch_s * rate) for rate in CLASSROOM_STEPS_PER_S)
    seen = []
    while run.steps < last:
        run.tick(steps=min(CHECK_EVERY, last - run.steps))
        if run.steps >= first:
            seen.append((run.steps, _banners(run, view)))
    wrong = [(step, banners) for step, banners in seen if banners != chosen.outcome]
    assert not wrong, (f"{chosen.title}: the text says {chosen.outcome} after "
                       f"{chosen.watch_s:g} s ({first}-{last} steps); seen {wrong[:3]}")


def test_lesson_4_shows_p_and_its_z_does_not_collapse(one_thread):
    chosen = lesson(4)
    assert chosen.settings["view"] == "P"
    values, _ = from_query({}, chosen.settings)
    run = LiveRun([recipe_of(values)], config_of(values), values["seed"])
    run.tick(steps=round(chosen.watch_s * CLASSROOM_STEPS_PER_S[0]))
    assert run.state(0, "p") == "collapsed"
    assert run.state(0, "z") != "collapsed"  # why the picture must show P


def test_the_readme_headline_stop_gradient_off_mid_run(one_thread):
    """README: from a start SimSiam has spread (300 steps), switching stop-gradient off runs
    every point to the tip of o in about 1,600 steps (here: between 500 and 2,000)."""
    values, _ = from_query({})
    run = LiveRun([preset("simsiam")], config_of(values), values["seed"])
    run.tick(steps=300)
    assert run.state(0) != "collapsed"
    assert run.set_recipe(0, preset("no-stop-gradient"))
    while run.state(0) != "collapsed" and run.steps < 300 + 2000:
        run.tick(steps=50)
    assert run.state(0) == "collapsed", run.latest(0)
    assert run.steps - 300 >= 500, "faster than the README says: update its figure"
