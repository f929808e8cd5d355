"""The classroom app: ``streamlit run app.py``. The page every student sees is ``page.py``; this
file is the server around it, which starts the training workers when the server starts.

Why not at the first page: on a cold start a worker's torch import (1.2-2 s) and warm-up then
overlap the browser's own start and Streamlit's frontend, instead of following them. Measured
end to end, ``streamlit run`` to the first picture: 4.2-4.3 s against 4.9-5.8 s when the pool
started with the first page (BENCHMARKS.md, "Issue 10, third round").
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import streamlit as st

from classroom.pool import start_shared_pool


@asynccontextmanager
async def start_workers(_app: st.App) -> AsyncIterator[None]:
    """Start the training pool with the server (its workers stop when the server's sockets
    close). A bad ``$CLASSROOM_WORKERS`` is one line here and on every page, not a crash."""
    refused = start_shared_pool()
    if refused:
        print(f"The app cannot start its training workers: {refused}.", file=sys.stderr)
    yield


app = st.App("page.py", lifespan=start_workers)
