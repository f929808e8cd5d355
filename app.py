"""The classroom app: ``streamlit run app.py``. Toggle stop-gradient, the predictor and negatives
and watch the representations collapse, or not, live on the circle or the sphere.

UI only: the recipe comes from the controls (classroom/controls.py), the training is the toy's
(toy/train.py via classroom/live.py), every loss, predictor and metric is the shared package's
(collapse/). A toggle reaches the gradient in three files: controls.recipe_of -> Recipe ->
collapse.losses.pair.
"""

from __future__ import annotations

import math

import streamlit as st

from classroom.controls import (
    BY_NAME,
    CONTROLS,
    RECIPE_FIELDS,
    config_of,
    from_query,
    recipe_of,
    recipe_values,
    to_query,
)
from classroom.lessons import LESSONS, Lesson, lesson
from classroom.live import TICKS_PER_S
from classroom.live_figures import live_figures
from classroom.pool import RemoteRun, shared_pool
from collapse.recipe import PRESETS, name_of, preset

TICK_INTERVAL_S = 1 / TICKS_PER_S  # a live picture at 10 updates/s
shared_pool()  # the sessions' runs train in worker processes, started (and warmed) once
S = st.session_state

st.set_page_config(page_title="SimSiam collapse, live", layout="wide")


# ---------------------------------------------------------------------------------------------
# State from the URL, once per browser session.


def _apply(settings: dict[str, object]) -> None:
    """Set controls; a preset name also sets every recipe field."""
    if settings.get("recipe", "custom") != "custom":
        S.update(recipe_values(preset(str(settings["recipe"]))))
    S.update(settings)


def _lesson_of(title: str) -> Lesson | None:
    return next((x for x in LESSONS if x.title == title), None)


def _init_from_url() -> None:
    """The controls from the URL: a lesson's settings first, then the link's explicit values."""
    query = st.query_params.to_dict()
    warnings = []
    chosen = None
    if "lesson" in query:
        try:
            chosen = lesson(int(query["lesson"]))
        except ValueError:
            warnings.append(f"lesson={query['lesson']!r} is not one of 1..{len(LESSONS)}; "
                            "no lesson loaded")
    values, refused = from_query(query, chosen.settings if chosen else None)
    warnings += refused
    hidden = {h for h in query.get("hide", "").split(",") if h}
    unknown = sorted(hidden - set(BY_NAME))
    if unknown:
        warnings.append(f"hide={','.join(unknown)} names no control; valid: "
                        f"{', '.join(BY_NAME)}")
    S.update(values)
    S["_hidden"] = hidden & set(BY_NAME)
    S["_lesson"] = chosen.title if chosen else "none"
    S["_warnings"] = warnings
    S["_playing"] = False


if "_warnings" not in S:
    _init_from_url()


# ---------------------------------------------------------------------------------------------
# Callbacks: a preset sets the toggles; a toggle makes the preset 'custom' (or names the match).


def _on_preset() -> None:
    if S["recipe"] != "custom":
        S.update(recipe_values(preset(S["recipe"])))


def _on_field() -> None:
    try:
        S["recipe"] = name_of(recipe_of(S))
    except ValueError:
        S["recipe"] = "custom"


def _on_lesson() -> None:
    chosen = _lesson_of(S["_lesson"])
    if chosen is not None:
        _apply(chosen.settings)
        S["_playing"] = False


def _widget(name: str) -> None:
    control = BY_NAME[name]
    if name in S["_hidden"]:
        return
    callback = _on_preset if name == "recipe" else _on_field if name in RECIPE_FIELDS else None
    common = {"key": name, "help": control.help or None, "on_change": callback}
    if control.kind == "choice":
        labels = ({p: f"{p}  ({PRESETS[p].source})" for p in PRESETS}
                  if name in ("recipe", "compare") else {})
        st.selectbox(control.label, control.choices, format_func=lambda v: labels.get(v, v),
                     **common)
    elif control.kind == "bool":
        st.toggle(control.label, **common)
    elif control.kind == "int":
        st.number_input(control.label, min_value=int(control.low), max_value=int(control.high),
                        step=1, **common)
    else:  # as many decimals as the step has (the default "%0.2f" shows 1e-4 as 0.00)
        decimals = max(0, -math.floor(math.log10(control.step) + 1e-9))
        st.slider(control.label, min_value=float(control.low), max_value=float(control.high),
                  step=control.step, format=f"%.{decimals}f", **common)


with st.sidebar:
    st.header("Controls")
    st.selectbox("Lesson", ["none", *(x.title for x in LESSONS)], key="_lesson",
                 on_change=_on_lesson)
    _widget("recipe")
    st.caption("The three things the paper is about:")
    for name in ("stop_gradient", "predictor", "placement", "negatives", "tau"):
        _widget(name)
    with st.expander("Surgery, target, dummy losses, EMA"):
        for name in ("extra_gradient", "target", "objective", "decorrelation", "ema"):
            _widget(name)
    with st.expander("Training and data"):
        for name in ("lr", "weight_decay", "batch", "dim", "dataset", "augmentation", "seed"):
            _widget(name)
    _widget("compare")

values = {c.name: S[c.name] for c in CONTROLS}
try:
    recipe = recipe_of(values)
    S["_recipe"] = recipe
except ValueError as error:
    st.warning(f"{error}. Still training {name_of(S['_recipe'])!r}; change a toggle to fix it.")
    recipe = S["_recipe"]

current_lesson = _lesson_of(S["_lesson"])
query = to_query(values, current_lesson.settings if current_lesson else None)
if S["_hidden"]:
    query["hide"] = ",".join(sorted(S["_hidden"]))
if current_lesson is not None:
    query["lesson"] = str(1 + LESSONS.index(current_lesson))
if query != st.query_params.to_dict():
    st.query_params.from_dict(query)

# ---------------------------------------------------------------------------------------------
# The session's run: rebuilt when the data or the network changes, switched live otherwise.

compare = None if values["compare"] == "none" else preset(values["compare"])
config = config_of(values)
run_key = (config.dataset, config.dim, config.batch, config.augmentation, values["seed"],
           values["compare"])
run: RemoteRun | None = S.get("_run")  # the session's LiveRun, trained in a worker process
stale = run is None or S.get("_run_key") != run_key
# A recipe that uses the same modules switches live (e.g. stop-gradient off mid-run).
if stale or (run.sims[0].recipe != recipe and not run.set_recipe(0, recipe)):
    if run is not None:
        run.close()
    run = RemoteRun([recipe] + ([compare] if compare else []), config, values["seed"])
run.set_optimizer(config.lr, config.weight_decay)
S["_run"], S["_run_key"] = run, run_key

# ---------------------------------------------------------------------------------------------
# Page.

st.title("How does SimSiam avoid collapse?")
st.caption("Zhang et al., ICLR 2022. Each point is one input's representation Z = z/|z|; the "
           "arrow is their center o. Collapse: every Z at the tip of o.")
for message in S["_warnings"]:
    st.warning(f"Refused URL value: {message}")

if current_lesson is not None:
    st.info(f"**{current_lesson.title}** ({current_lesson.section}). {current_lesson.watch}"
            f"\n\n**Question:** {current_lesson.question}")

play, step, reset, _ = st.columns([1, 1, 1, 3])


def _set_playing(playing: bool) -> None:
    """Set, never toggle: a click that reaches the script twice (seen while the fragment's timer
    runs) must not undo itself."""
    S["_playing"] = playing


play.button("Pause" if S["_playing"] else "Play", key="play", type="primary", width="stretch",
            on_click=_set_playing, args=(not S["_playing"],))
if step.button("Step", key="step", width="stretch", disabled=S["_playing"]):
    run.tick()
if reset.button("Reset", key="reset", width="stretch"):
    run.close()
    run = RemoteRun([recipe] + ([compare] if compare else []), config, values["seed"])
    S["_run"] = run


@st.fragment(run_every=TICK_INTERVAL_S if S["_playing"] else None)
def live() -> None:
    # The worker trains while playing; each update fetches its latest view (one round trip).
    run.play(S["_playing"])
    run.refresh()
    # Inside the fragment, not in a column made outside it: a timer run that overlaps the full
    # run of a Pause click could not write there (StreamlitInvalidLayoutContextError, in 3 of 5
    # browser runs: an extra tick after Pause, or a page left without its lower part).
    st.markdown(f"### step {run.steps}")
    columns = st.columns(len(run.sims))
    for index, (column, sim) in enumerate(zip(columns, run.sims, strict=True)):
        with column:
            name = name_of(sim.recipe)
            source = PRESETS[name].source if name in PRESETS else "custom recipe"
            st.subheader(f"{name}  ·  {source}")
            banner = run.banner(index)
            row = run.latest(index)
            if banner == "collapsed":
                st.error(f"**Collapsed** at step {run.steps}: std(Z)·√d = "
                         f"{row['z_std_scaled']:.3f}, |o| = {row['z_center_norm']:.3f}")
            elif banner == "recovered":
                st.success("**Recovered** from collapse: the residual is back.")
            metric = st.columns(4)
            metric[0].metric("std(Z)·√d", f"{row['z_std_scaled']:.3f}", help="1 = isotropic")
            metric[1].metric("|o|", f"{row['z_center_norm']:.3f}", help="1 = collapsed")
            metric[2].metric("eff. rank", f"{row['z_effective_rank']:.2f} / {config.dim}")
            metric[3].metric("kNN", f"{run.knn[index][-1][1]:.2f}",
                             help=f"chance {run.chance():.2f}")
            live_figures(run.figures(index), key=f"figures{index}")


# In the sidebar, written before the fragment: below it in the main area, this expander was
# sometimes missing after Pause (1 browser run in 6), when a timer run of the fragment
# overlapped the full run.
with st.sidebar, st.expander("Export and share"):
    st.caption("This page's URL holds every control and the seed: copy it to share this exact "
               "exercise. Add `&hide=lr,batch` to hide controls from students.")
    for index, sim in enumerate(run.sims):
        name = name_of(sim.recipe)
        st.download_button(f"{name}: metrics (CSV)", lambda i=index: run.csv(i),
                           file_name=f"{name}-metrics.csv", mime="text/csv",
                           on_click="ignore", key=f"csv{index}")
        st.download_button(f"{name}: picture (PNG)", lambda i=index: run.png(i, "representations"),
                           file_name=f"{name}-representations.png", mime="image/png",
                           on_click="ignore", key=f"png{index}")
        st.download_button(f"{name}: curves (PNG)", lambda i=index: run.png(i, "curves"),
                           file_name=f"{name}-curves.png", mime="image/png",
                           on_click="ignore", key=f"curvespng{index}")

live()
