"""The classroom app's page, what every student sees (``streamlit run app.py`` serves it). Toggle
stop-gradient, the predictor and negatives and watch the representations collapse, or not, live
on the circle or the sphere.

UI only: the recipe comes from the controls (classroom/controls.py), the training is the toy's
(toy/train.py via classroom/live.py), every loss, predictor and metric is the shared package's
(collapse/). A toggle reaches the gradient in three files: controls.recipe_of -> Recipe ->
collapse.losses.pair.
"""

from __future__ import annotations

from classroom.pool import RemoteRun, start_shared_pool

# First of all: the sessions' runs train in worker processes, started (and warmed) once, when
# the server starts (app.py); here only where the page runs without that server (AppTest). A
# bad $CLASSROOM_WORKERS is said on the page in one line (below), not as a traceback.
POOL_REFUSED = start_shared_pool()

import math  # noqa: E402
import time  # noqa: E402

import streamlit as st  # noqa: E402

from classroom.controls import (  # noqa: E402
    BY_NAME,
    CONTROLS,
    RECIPE_FIELDS,
    Refusal,
    config_of,
    from_query,
    parameters_of,
    preset_name,
    recipe_of,
    recipe_values,
    to_query,
    why_not,
)
from classroom.lessons import LESSONS, Lesson, lesson  # noqa: E402
from classroom.live_figures import held_back, live_figures  # noqa: E402
from classroom.pace import TICKS_PER_S  # noqa: E402
from collapse.recipe import PRESETS, name_of, preset  # noqa: E402

TICK_INTERVAL_S = 1 / TICKS_PER_S  # a live picture at 10 updates/s
S = st.session_state

st.set_page_config(page_title="SimSiam collapse, live", layout="wide")
if POOL_REFUSED:
    st.error(f"The app cannot start its training workers: {POOL_REFUSED}.")
    st.stop()


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
            warnings.append(Refusal(f"lesson={query['lesson']!r} is not one of "
                                    f"1..{len(LESSONS)}; no lesson loaded", "_lesson"))
    values, refused = from_query(query, chosen.settings if chosen else None)
    warnings += refused
    hidden = {h for h in query.get("hide", "").split(",") if h}
    unknown = sorted(hidden - set(BY_NAME))
    if unknown:
        warnings.append(Refusal(f"hide={','.join(unknown)} names no control; valid: "
                                f"{', '.join(BY_NAME)}"))
    S.update(values)
    S["_hidden"] = hidden & set(BY_NAME)
    S["_lesson"] = chosen.title if chosen else "none"
    S["_warnings"] = warnings
    S["_playing"] = False


if "_warnings" not in S:
    _init_from_url()


# ---------------------------------------------------------------------------------------------
# Callbacks: a preset sets the toggles; a toggle names the preset it now is (or 'custom'), or,
# if it makes no valid recipe, is put back with the reason in a student's words. A changed
# control also drops the URL's warning about it (and the general ones).


def _forget(name: str) -> None:
    S["_warnings"] = [w for w in S["_warnings"] if w.name not in (name, "")]


def _on_preset() -> None:
    _forget("recipe")
    if S["recipe"] != "custom":
        S.update(recipe_values(preset(S["recipe"])))


def _on_field(name: str) -> None:
    _forget(name)
    try:
        S["recipe"] = preset_name(recipe_of(S))
    except ValueError:
        S["_notice"] = (f"{why_not(S, name)} {BY_NAME[name].label} is back to "
                        f"{getattr(S['_recipe'], name)}.")
        S[name] = getattr(S["_recipe"], name)  # the controls stay those of the run


def _on_lesson() -> None:
    _forget("_lesson")
    chosen = _lesson_of(S["_lesson"])
    if chosen is not None:
        _apply(chosen.settings)
        S["_playing"] = False


def _widget(name: str) -> None:
    control = BY_NAME[name]
    if name in S["_hidden"]:
        return
    callback = _on_preset if name == "recipe" else _on_field if name in RECIPE_FIELDS else _forget
    common = {"key": name, "help": control.help or None, "on_change": callback,
              "args": () if name == "recipe" else (name,),
              "disabled": name == "tau" and S["negatives"] != "infonce"}  # τ: InfoNCE's only
    label = f"{control.label} ↻" if control.restarts else control.label
    if control.kind == "choice":
        labels = ({p: f"{p}  ({PRESETS[p].source})" for p in PRESETS}
                  if name in ("recipe", "compare") else {})
        st.selectbox(label, control.choices, format_func=lambda v: labels.get(v, v), **common)
    elif control.kind == "bool":
        st.toggle(label, **common)
    elif control.kind == "int":
        st.number_input(label, min_value=int(control.low), max_value=int(control.high),
                        step=1, **common)
    else:  # as many decimals as the step has (the default "%0.2f" shows 1e-4 as 0.00)
        decimals = max(0, -math.floor(math.log10(control.step) + 1e-9))
        st.slider(label, min_value=float(control.low), max_value=float(control.high),
                  step=control.step, format=f"%.{decimals}f", **common)


with st.sidebar:
    st.header("Controls")
    st.selectbox("Lesson", ["none", *(x.title for x in LESSONS)], key="_lesson",
                 on_change=_on_lesson, help="start here: lesson 1, then in order")
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
    _widget("view")
    st.caption("↻ : changing it restarts the run from step 0. Everything else switches live.")

values = {c.name: S[c.name] for c in CONTROLS}
try:
    recipe = recipe_of(values)
    S["_recipe"] = recipe
except ValueError as error:  # not reachable from the controls (a refused toggle is put back)
    st.warning(f"{error}. Still training {preset_name(S['_recipe'])!r}.")
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
        changed = [BY_NAME[c.name].label for c in CONTROLS if c.restarts
                   and S.get("_last_values", {}).get(c.name, values[c.name]) != values[c.name]]
        st.toast(f"New run from step 0: {', '.join(changed) or 'a new network'} changed "
                 "(controls marked ↻ need new data or weights).", icon="🔄")
    run = RemoteRun([recipe] + ([compare] if compare else []), config, values["seed"])
run.set_optimizer(config.lr, config.weight_decay)
S["_run"], S["_run_key"], S["_last_values"] = run, run_key, values

# ---------------------------------------------------------------------------------------------
# Page.

# A projector shows 1024 x 768: one header row, no wasted margins, the picture above the fold.
st.html("""<style>
[data-testid="stMainBlockContainer"] { padding: 3rem 1.25rem 2rem !important; }
[data-testid="stMain"] [data-testid="stVerticalBlock"] { gap: 0.5rem; }
header[data-testid="stHeader"] { pointer-events: none; }
header[data-testid="stHeader"] * { pointer-events: auto; }
[data-testid="stMain"] h1 { font-size: 1.45rem !important; padding: 0 !important; }
[data-testid="stMain"] h3 { font-size: 1.1rem !important; padding: 0 !important;
  margin: 0 !important; line-height: 1.5 !important; }
/* A run's status box: compact, and as tall in both columns of compare mode (aligned). */
[data-testid="stColumn"] [data-testid="stAlertContainer"] { padding: 0.4rem 0.75rem !important;
  min-height: 4.1rem; }
@media (min-width: 641px) { [data-testid="stMain"] h1 { white-space: nowrap; } }
@media (max-width: 640px) {
  [data-testid="stMainBlockContainer"] { padding-top: 3.75rem !important; } }
</style>""")

STEP_STEPS = 10  # the Step button trains exactly this many steps, then draws

title, play, step, reset = st.columns([4.2, 1, 1.25, 1], vertical_alignment="center")
title.title("How does SimSiam avoid collapse?", anchor=False,
            help="Zhang et al., ICLR 2022. Each point is one input's representation Z = z/|z| "
            "(or P = p/|p|, the predictor's); the arrow is their center o. Collapse: every "
            "point at the tip of o. Press Play, or pick Lesson 1 in the sidebar.")
if S["_warnings"]:  # one summary, however long the link
    shown = S["_warnings"][:3]
    more = len(S["_warnings"]) - len(shown)
    st.warning("Refused URL value" + ("s" if len(S["_warnings"]) > 1 else "") + ": "
               + "; ".join(shown) + (f"; and {more} more" if more else "")
               + ". Each goes away once you change that setting.")
if "_notice" in S:
    st.warning(S.pop("_notice"))

if current_lesson is not None:
    st.info(f"**{current_lesson.title}** ({current_lesson.section}). {current_lesson.watch} "
            f"*Press Play and watch for {current_lesson.watch_s:g} s.*"
            f"  \n**Question:** {current_lesson.question}")


def _set_playing(playing: bool) -> None:
    """Set, never toggle: a click that reaches the script twice (seen while the fragment's timer
    runs) must not undo itself."""
    S["_playing"] = playing


play.button("Pause" if S["_playing"] else "Play", key="play", type="primary", width="stretch",
            on_click=_set_playing, args=(not S["_playing"],))
if step.button(f"Step ×{STEP_STEPS}", key="step", width="stretch", disabled=S["_playing"],
               help=f"train exactly {STEP_STEPS} steps, then draw"):
    run.tick(steps=STEP_STEPS)
if reset.button("Reset", key="reset", width="stretch"):
    run.close()
    run = RemoteRun([recipe] + ([compare] if compare else []), config, values["seed"])
    S["_run"] = run


view = values["view"].lower()  # the representation the pictures and banners show


def _side(index: int) -> None:
    """One run's heading and its status box: collapsed (red), recovered (green) or not (blue),
    with the numbers of the shown representation, two lines that fit a compare column."""
    recipe_shown = run.sims[index].recipe
    name = preset_name(recipe_shown)
    source = (f"{PRESETS[name].source}: {PRESETS[name].summary}" if name in PRESETS
              else "a custom recipe")
    extra = "".join(f", {k} = {v:g}" for k, v in parameters_of(recipe_shown).items())
    st.subheader(f"{name}{extra}", anchor=False, help=source)
    row = run.latest(index)
    v = view if f"{view}_std_scaled" in row else "z"
    letter = v.upper()
    numbers = (f"|o| {row[f'{v}_center_norm']:.2f} · rank {row[f'{v}_effective_rank']:.1f} / "
               f"{config.dim} · kNN {run.knn[index][-1][1]:.2f}")
    std = f"std({letter})·√d {row[f'{v}_std_scaled']:.2f}"
    banner = run.banner(index, view)
    if banner == "collapsed":
        st.error(f"**Collapsed** · {std}  \n{numbers}")
    elif banner == "recovered":
        st.success(f"**Recovered** · {std}  \n{numbers}")
    elif run.steps == 0:
        st.info(f"**Press Play**{'' if current_lesson else ' or pick Lesson 1'} · {std}"
                f"  \n{numbers}")
    else:
        st.info(f"**Not collapsed** · {std}  \n{numbers}")


@st.fragment(run_every=TICK_INTERVAL_S if S["_playing"] else None)
def live() -> None:
    # The worker trains while playing; each update fetches its latest view (one round trip).
    run.play(S["_playing"])
    run.refresh(view=view, compact=len(run.sims) > 1)
    # Inside the fragment, not in a column made outside it: a timer run that overlaps the full
    # run of a Pause click could not write there (StreamlitInvalidLayoutContextError, in 3 of 5
    # browser runs: an extra tick after Pause, or a page left without its lower part).
    st.markdown(f"### step {run.steps}")
    for column, index in zip(st.columns(len(run.sims)), range(len(run.sims)), strict=True):
        with column:
            _side(index)
            sent = S.setdefault(f"_sent{index}", {})  # area -> when last sent to the page
            live_figures(held_back(run.figures(index), sent, time.monotonic(), S["_playing"]),
                         key=f"figures{index}")


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
