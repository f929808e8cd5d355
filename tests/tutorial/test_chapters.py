"""Every code block of the tutorial runs, and every link and figure of it resolves.

What runs, and how:

- Every ```python block of every Markdown file in tutorial/ runs with ``exec`` in a fresh
  namespace, in the repository root, on one torch thread.
- Every line of a ```bash block that starts with ``python -m`` (or ``torchrun ... -m``) runs
  in-process through the module's own ``main(argv)``, i.e. the same parser and code as the shell
  command, with the budgets **overridden** here so the whole file takes about a minute:

  - ``toy.run``: ``--steps 50 --out <tmp>`` appended;
  - ``toy.claims``: ``--steps 200 --seeds 0 --workers 1 --out <tmp>`` appended (200 is its
    minimum);
  - ``tutorial.figures``: ``--steps 40 --out <tmp> --quiet`` appended; the PNGs it writes must be
    exactly the committed ones in tutorial/figures/;
  - ``full.train`` on the built-in ``shapes`` data: a tiny network and dataset appended
    (:data:`TINY_FULL`, one epoch), the real pipeline end to end;
  - ``full.train`` on CIFAR, and any ``torchrun`` line (GPU commands): only parsed, by
    ``full.train.parse`` as on a CUDA machine (``WORLD_SIZE`` set to ``--nproc_per_node``);
  - ``full.paper_table``: ``--help`` runs, and the flags it passes to ``full.train`` are parsed;
  - ``full.bench``: ``--help`` runs and the flags are parsed.

  ``pip install`` and ``streamlit run`` lines are not run. A ``python -m`` module without a
  handler here fails the test, so a new kind of command gets one.
- Links: every relative link and image resolves to a file of the repository; every app link
  (``http://localhost:8501/?...``) names a lesson in range and controls that
  :func:`classroom.controls.from_query` accepts without a warning.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import itertools
import os
import pathlib
import re
import shlex
import textwrap
from urllib.parse import parse_qsl, urlsplit

import pytest
import torch

ROOT = pathlib.Path(__file__).resolve().parents[2]
TUTORIAL = ROOT / "tutorial"
FIGURES = TUTORIAL / "figures"
PAGES = sorted(TUTORIAL.glob("*.md"))
CHAPTERS = sorted(TUTORIAL.glob("[0-9][0-9]-*.md"))
APP = "http://localhost:8501"

# One epoch of the real full/ pipeline with a width-2 ResNet on 32 built-in images: ~1 s.
TINY_FULL = ["--epochs", "1", "--train-size", "32", "--test-size", "16", "--width", "2",
             "--dim", "16", "--proj-hidden", "16", "--pred-hidden", "8", "--batch", "8",
             "--probe-epochs", "2", "--knn-k", "5", "--no-progress"]
NOT_RUN = ("pip", "streamlit")


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """One torch thread, as the toy's own CLIs use: on a shared CPU, two threads of tiny ops are
    many times slower than one."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


# ---------------------------------------------------------------------------------------------
# Extraction


def code_blocks(page: pathlib.Path) -> list[tuple[str, str, int]]:
    """(language, dedented code, line number) of every fenced block, indented ones included."""
    blocks, lines = [], page.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        fence = re.match(r"^(\s*)```(\w*)\s*$", lines[i])
        if not fence:
            i += 1
            continue
        indent, language, start = fence.group(1), fence.group(2), i + 1
        i += 1
        body = []
        while i < len(lines) and lines[i].rstrip() != f"{indent}```":
            body.append(lines[i])
            i += 1
        if i == len(lines):
            raise AssertionError(f"{page.name}:{start}: unclosed code fence")
        blocks.append((language, textwrap.dedent("\n".join(body)), start))
        i += 1
    return blocks


def shell_commands(code: str) -> list[list[str]]:
    """The commands of a bash block, continuation lines joined and comments dropped."""
    joined = re.sub(r"\\\n", " ", code)
    return [tokens for line in joined.splitlines()
            if (tokens := shlex.split(line, comments=True))]


def _blocks(language: str) -> list[pytest.param]:
    params = []
    for page in PAGES:
        for lang, code, line in code_blocks(page):
            if lang == language:
                params.append(pytest.param(code, id=f"{page.name}:{line}"))
    return params


def _commands() -> list[pytest.param]:
    params = []
    for page in PAGES:
        for lang, code, line in code_blocks(page):
            if lang not in ("bash", "sh", "shell"):
                continue
            for n, tokens in enumerate(shell_commands(code)):
                params.append(pytest.param(tokens, id=f"{page.name}:{line}:{n}"))
    return params


def test_the_tutorial_has_every_chapter_and_code_to_run():
    names = [page.name for page in CHAPTERS]
    assert [name[:2] for name in names] == [f"{n:02d}" for n in range(10)], names
    assert {"answers.md", "lesson-plan.md"} <= {page.name for page in PAGES}
    assert len(_blocks("python")) >= 8
    assert len(_commands()) >= 10


# ---------------------------------------------------------------------------------------------
# Python blocks


@pytest.mark.parametrize("code", _blocks("python"))
def test_python_block_runs(code, monkeypatch):
    monkeypatch.chdir(ROOT)
    exec(compile(code, "<tutorial block>", "exec"), {"__name__": "__main__"})


# ---------------------------------------------------------------------------------------------
# Shell commands


def _main(module: str, argv: list[str]) -> int:
    """``python -m module *argv`` in-process; SystemExit becomes the exit status."""
    try:
        status = importlib.import_module(module).main(argv)
    except SystemExit as exit_:
        status = exit_.code
    return 0 if status is None else status


def _flag(argv: list[str], name: str) -> str | None:
    """The value of ``--name V`` or ``--name=V`` in argv (the last one wins, as in argparse)."""
    value = None
    for i, token in enumerate(argv):
        if token == name and i + 1 < len(argv):
            value = argv[i + 1]
        elif token.startswith(name + "="):
            value = token.split("=", 1)[1]
    return value


def _without(argv: list[str], *names: str) -> list[str]:
    """argv without the flags ``names`` and their values."""
    out, skip = [], False
    for token in argv:
        if skip:
            skip = False
        elif token in names:
            skip = True
        elif not any(token.startswith(n + "=") for n in names):
            out.append(token)
    return out


def _parse_full_train(argv: list[str], tmp: pathlib.Path, world_size: int = 1) -> None:
    """full.train's own validation of a GPU command, as on a machine with CUDA."""
    from full.train import parse

    env = {"WORLD_SIZE": str(world_size), "RANK": "0"}
    with _environ(env):
        args = parse([*argv, "--out", str(tmp / "parsed")], cuda=True)
    assert args.batch % world_size == 0


@contextlib.contextmanager
def _environ(values: dict[str, str]):
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _split(tokens: list[str]) -> tuple[str, list[str], int] | None:
    """(module, argv, world size) of a ``python -m`` or ``torchrun ... -m`` command."""
    if tokens[:2] == ["python", "-m"]:
        return tokens[2], tokens[3:], 1
    if tokens[0] == "torchrun":
        m = tokens.index("-m")
        nproc = _flag(tokens[:m], "--nproc_per_node") or "1"
        return tokens[m + 1], tokens[m + 2:], int(nproc)
    return None


@pytest.mark.parametrize("tokens", _commands())
def test_shell_command_runs(tokens, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    if tokens[0] in NOT_RUN:
        pytest.skip(f"{tokens[0]} lines are not run")
    split = _split(tokens)
    assert split is not None, f"no handler for the command {shlex.join(tokens)!r}"
    module, argv, world = split
    out = str(tmp_path / "out")

    if module == "toy.run":
        assert _main(module, [*argv, "--steps", "50", "--out", out]) == 0
    elif module == "toy.claims":
        assert _main(module, [*argv, "--steps", "200", "--seeds", "0", "--workers", "1",
                              "--out", out]) == 0
    elif module == "tutorial.figures":
        assert _main(module, [*argv, "--steps", "40", "--out", out, "--quiet"]) == 0
        written = {p.name for p in pathlib.Path(out).glob("*.png")}
        committed = {p.name for p in FIGURES.glob("*.png")}
        assert written == committed, "regenerate tutorial/figures: python -m tutorial.figures"
    elif module == "full.train":
        pytest.importorskip("full.train")
        gpu = world > 1 or tokens[0] == "torchrun" or _flag(argv, "--dataset") != "shapes"
        if gpu:
            _parse_full_train(argv, tmp_path, world)
        else:
            assert _main(module, [*argv, *TINY_FULL, "--out", out]) == 0
            assert (pathlib.Path(out) / "metrics.jsonl").exists()
    elif module == "full.paper_table":
        pytest.importorskip("full.paper_table")
        assert _main(module, ["--help"]) == 0
        _parse_full_train(_without(argv, "--recipes", "--out"), tmp_path)
    elif module == "full.report":
        # Draw two tiny real runs kept in tmp_path under the folder names the command gives.
        runs = list(itertools.takewhile(lambda a: not a.startswith("-"), argv))
        assert runs, "full.report needs run folders"
        for folder in runs:
            assert _main("full.train", ["--dataset", "shapes", *TINY_FULL,
                                        "--out", str(tmp_path / folder)]) == 0
        figure = tmp_path / "compare.png"
        assert _main(module, [*(str(tmp_path / f) for f in runs), "--out", str(figure)]) == 0
        assert figure.stat().st_size > 0
    elif module == "full.bench":
        bench = pytest.importorskip("full.bench")
        assert _main(module, ["--help"]) == 0
        bench.build_parser().parse_args(argv)
    else:
        pytest.fail(f"no handler for python -m {module}: add one to {pathlib.Path(__file__).name}")


# ---------------------------------------------------------------------------------------------
# Links, figures, app links, equations

LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
AUTOLINK = re.compile(r"<(https?://[^>\s]+)>")
IMAGE = re.compile(r"!\[[^\]]*\]\(\s*([^)\s]+)")


def _targets(page: pathlib.Path) -> list[str]:
    text = page.read_text(encoding="utf-8")
    # code blocks are commands, not links
    text = re.sub(r"^([ \t]*)```.*?^\1```", "", text, flags=re.S | re.M)
    return LINK.findall(text) + AUTOLINK.findall(text)


def _app_links(page: pathlib.Path) -> list[str]:
    return [t for t in _targets(page) if t.startswith(APP)]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_relative_links_and_figures_exist(page):
    for target in _targets(page):
        if re.match(r"^[a-z]+:", target) or target.startswith("#"):
            continue
        path = (page.parent / target.split("#", 1)[0]).resolve()
        assert path.exists(), f"{page.name}: broken link {target}"
        assert path.is_relative_to(ROOT), f"{page.name}: {target} leaves the repository"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_app_links_are_accepted_by_the_app(page):
    from classroom.controls import BY_NAME, from_query
    from classroom.lessons import LESSONS

    takes_start = "start" in inspect.signature(from_query).parameters
    for url in _app_links(page):
        parts = urlsplit(url)
        assert parts.path in ("", "/"), f"{page.name}: {url}: the app has one page"
        query = dict(parse_qsl(parts.query, keep_blank_values=True, strict_parsing=bool(
            parts.query)))
        start = None
        if "lesson" in query:
            number = int(query["lesson"])
            assert 1 <= number <= len(LESSONS), f"{page.name}: {url}: no lesson {number}"
            start = LESSONS[number - 1].settings
            # Older app versions let the lesson override explicit controls: keep them apart.
            assert set(query) <= {"lesson", "hide"}, f"{page.name}: {url}: lesson + controls"
        hidden = [h for h in query.get("hide", "").split(",") if h]
        assert set(hidden) <= set(BY_NAME), f"{page.name}: {url}: hide names no control"
        _, warnings = from_query(query, start) if takes_start else from_query(query)
        assert warnings == [], f"{page.name}: {url}: {warnings}"


@pytest.mark.parametrize("page", CHAPTERS, ids=lambda p: p.name)
def test_each_chapter_links_an_app_lesson_and_the_code(page):
    targets = _targets(page)
    assert _app_links(page), f"{page.name} links no app lesson"
    assert any(t.split("#")[0].endswith(".py") for t in targets), f"{page.name} links no module"


def test_every_committed_figure_is_used_by_a_chapter():
    used = {(page.parent / t).resolve() for page in PAGES
            for t in IMAGE.findall(page.read_text(encoding="utf-8"))}
    for png in FIGURES.glob("*.png"):
        assert png.resolve() in used, f"{png.name} is not shown in any chapter"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_figure_shown_is_regenerated_by_code(page):
    """A chapter's image is made by tutorial.figures, or by a command of that chapter whose
    ``--out`` names it (e.g. ``python -m full.report ... --out docs/x.png``)."""
    commands = [tokens for lang, code, _ in code_blocks(page) if lang in ("bash", "sh", "shell")
                for tokens in shell_commands(code)]
    written = {(ROOT / _flag(tokens, "--out")).resolve() for tokens in commands
               if _flag(tokens, "--out")}
    for target in IMAGE.findall(page.read_text(encoding="utf-8")):
        path = (page.parent / target).resolve()
        assert path.suffix == ".png", path
        assert path.parent == FIGURES.resolve() or path in written, \
            f"{page.name}: {target} is neither in tutorial/figures nor written by its commands"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_equation_has_a_reading_in_words(page):
    """Each ```math block (GitHub renders it with MathJax) is followed by an '*In words' line."""
    lines = page.read_text(encoding="utf-8").splitlines()
    assert "$$" not in "\n".join(lines), f"{page.name}: use ```math blocks, not $$"
    for language, code, line in code_blocks(page):
        if language != "math":
            continue
        after = iter(lines[line + code.count("\n") + 2:])  # the lines after the closing fence
        following = next((text for text in after if text.strip()), "")
        assert following.startswith("*In words"), (
            f"{page.name}:{line}: the equation {code[:50]!r} has no '*In words' line")
