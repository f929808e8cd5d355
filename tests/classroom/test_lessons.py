"""Tests for classroom.lessons: every lesson loads valid presets and controls; bad numbers raise."""

import pytest

from classroom.controls import BY_NAME, from_query, recipe_of
from classroom.lessons import LESSONS, lesson
from collapse.recipe import PRESETS, preset


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
