"""Tests for app.py, the server around the page: ``streamlit run app.py`` finds it as an app with
a start-up hook, and the hook starts the training workers before any page has opened (issue 10
§2), or says in one line why it cannot."""

import os
import subprocess
import sys
from pathlib import Path

from streamlit.web.server.app_discovery import discover_asgi_app

ROOT = Path(__file__).resolve().parents[1]

# The server's start-up, as uvicorn runs it: enter the app's lifespan, then look at the pool.
STARTUP = """
import asyncio, sys
import app
from classroom import pool

async def main():
    async with app.start_workers(app.app):
        started = pool._POOL
        print("workers", 0 if started is None else len(started.workers))
        if started is not None:
            started.close()

asyncio.run(main())
"""


def test_streamlit_run_finds_the_app_and_its_page():
    found = discover_asgi_app(ROOT / "app.py")
    assert found.is_asgi_app
    assert found.import_string == "app:app"
    assert "st.App(\"page.py\"" in (ROOT / "app.py").read_text()
    assert (ROOT / "page.py").exists()


def test_the_server_starts_the_workers_before_any_page():
    done = subprocess.run([sys.executable, "-c", STARTUP], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env={**os.environ, "CLASSROOM_WORKERS": "1"})
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "workers 1"


def test_a_bad_worker_count_is_one_line_at_start():
    done = subprocess.run([sys.executable, "-c", STARTUP], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env={**os.environ, "CLASSROOM_WORKERS": "abc"})
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "workers 0"
    assert done.stderr.strip() == ("The app cannot start its training workers: "
                                   "CLASSROOM_WORKERS='abc' must be an integer >= 1.")
