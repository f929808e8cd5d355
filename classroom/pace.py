"""The class pace: how often the page redraws and how much a session trains per redraw.

Plain numbers, without torch: the app's page (page.py) and the lessons read them, while only
the training workers (classroom/pool.py) import the training code that follows them
(classroom/live.py).
"""

TICKS_PER_S = 10  # the app redraws at 10 updates/s (page.TICK_INTERVAL_S = 1 / TICKS_PER_S)
# The class pace: a tick trains at most this many steps per recipe, so a session trains at most
# STEPS_PER_TICK x TICKS_PER_S = 150 steps/s, alone or in a class (issue 10). Without it a
# session alone took a whole tick budget, 276-357 steps/s on this 2-core machine, and each of
# three sessions got 52-67: what a student saw, and how far a lesson's "watch for 10 s" went,
# depended on how many others were playing. At the pace every session sees the same run while
# the machine has the cores for it, and the same share of them when it does not.
STEPS_PER_TICK = 15
TICK_BUDGET_S = 0.06  # the most CPU time a tick of a session trains (all its runs together)
