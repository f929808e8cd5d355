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
    (:data:`TINY_FULL`, the command's own epochs), the real pipeline end to end;
  - ``full.train`` on CIFAR, and any ``torchrun`` line (GPU commands): only parsed, by
    ``full.train.parse`` as on a CUDA machine (``WORLD_SIZE`` set to ``--nproc_per_node``);
  - ``full.paper_table``: ``--help`` runs, and the flags it passes to ``full.train`` are parsed;
  - ``full.bench``: ``--help`` runs and the flags are parsed.

  ``pip install`` and ``streamlit run`` lines are not run. A ``python -m`` module without a
  handler here fails the test, so a new kind of command gets one.
- Expected outputs: every code block is followed by what it prints. A ```text block is the
  exact output of the Python block before it (run in an empty folder). A ```console block is a
  transcript: ``$ command`` lines, each followed by what that command prints at its full
  budget; the test runs the command at its reduced budget and checks the same lines with every
  number and collapse state as a wildcard (``...`` alone on a line skips lines, inside a line
  skips text). Commands that are not run here (``pip``, ``streamlit``, GPU commands) still need
  their transcript.
- Links: every relative link and image resolves to a file of the repository, and a ``#anchor``
  to a heading of the page it names; every web link is a well-formed https address, and the
  paper's is its arXiv abstract page (format only: no network); every app link
  (``http://localhost:8501/?...``) names a lesson in range and controls that
  :func:`classroom.controls.from_query` accepts without a warning; every question of the lesson
  plan links to its answer.
- Figures: ``python -m tutorial.figures`` writes exactly the committed PNGs, and every figure
  it saves has a title, and x and y (and z) labels on each of its axes, read from the
  matplotlib ``Figure`` objects as they are saved.
- The lesson plan: every app link it uses is trained here with the app's own settings (its
  dimension, batch and recipe) for :data:`PLAN_STEPS` steps, and each side ends in the state
  the plan says (:data:`PLAN_OUTCOMES`).
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import inspect
import io
import itertools
import os
import pathlib
import re
import shlex
import shutil
import textwrap
from typing import NamedTuple
from urllib.parse import parse_qsl, urlsplit

import pytest
import torch

ROOT = pathlib.Path(__file__).resolve().parents[2]
TUTORIAL = ROOT / "tutorial"
FIGURES = TUTORIAL / "figures"
PAGES = sorted(TUTORIAL.glob("*.md"))
CHAPTERS = sorted(TUTORIAL.glob("[0-9][0-9]-*.md"))
APP = "http://localhost:8501"

# The real full/ pipeline with a width-2 ResNet on 32 built-in images: ~1 s an epoch. The epochs
# are the command's own (a transcript shows every epoch).
TINY_FULL = ["--train-size", "32", "--test-size", "16", "--width", "2",
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


class Block(NamedTuple):
    language: str
    code: str  # dedented
    line: int  # 1-based line of the opening fence
    end: int  # 0-based index of the closing fence


OUTPUTS = ("text", "console")
RUNNABLE = ("python", "bash", "sh", "shell")


def code_blocks(page: pathlib.Path) -> list[Block]:
    """Every fenced block of ``page``, indented ones included."""
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
        blocks.append(Block(language, textwrap.dedent("\n".join(body)), start, i))
        i += 1
    return blocks


def expected_output(page: pathlib.Path, index: int) -> Block | None:
    """The ```text or ```console block that follows block ``index`` of ``page`` (at most one
    line of prose in between), or None."""
    blocks = code_blocks(page)
    if index + 1 >= len(blocks):
        return None
    lines = page.read_text(encoding="utf-8").splitlines()
    after = blocks[index + 1]
    between = [t for t in lines[blocks[index].end + 1:after.line - 1] if t.strip()]
    return after if after.language in OUTPUTS and len(between) <= 1 else None


def transcript(block: Block) -> list[tuple[list[str], str]]:
    """(command tokens, what it prints) for each ``$ command`` of a ```console block."""
    sections: list[tuple[list[str], list[str]]] = []
    for line in block.code.splitlines():
        if line.startswith("$ "):
            sections.append((shlex.split(line[2:], comments=True), []))
        elif sections:
            sections[-1][1].append(line)
        elif line.strip():
            raise AssertionError(f"console block at line {block.line}: text before the first $")
    return [(tokens, "\n".join(out)) for tokens, out in sections]


NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[-+]?\d+)?"
STATES = r"collapsed|dimensional|healthy"
_TOKEN = re.compile(rf"(\.\.\.|{NUMBER}|\b(?:{STATES}|nan|None)\b|\s+)")


@functools.cache
def _line_pattern(line: str) -> re.Pattern[str]:
    """A line of a transcript as a pattern: numbers and states are wildcards, ``...`` any text."""
    out = []
    for part in _TOKEN.split(line.strip()):
        if not part:
            continue
        if part == "...":
            out.append(".*?")
        elif part.isspace():
            out.append(r"\s+")
        elif re.fullmatch(NUMBER, part) or part in ("nan", "None"):
            out.append(rf"(?:{NUMBER}|nan|inf|-inf|None)")
        elif re.fullmatch(STATES, part):
            out.append(rf"(?:{STATES})")
        else:
            out.append(re.escape(part))
    return re.compile("".join(out))


def _clean(text: str) -> list[str]:
    return [line.rstrip() for line in text.strip("\n").splitlines() if line.strip()]


def matches_transcript(expected: str, actual: str) -> bool:
    """Whether ``actual`` has the lines of ``expected`` (a line ``...`` skips any lines)."""
    want, got = _clean(expected), _clean(actual)

    @functools.cache
    def match(i: int, j: int) -> bool:
        if i == len(want):
            return j == len(got)
        if want[i].strip() == "...":
            return any(match(i + 1, k) for k in range(j, len(got) + 1))
        return j < len(got) and bool(_line_pattern(want[i]).fullmatch(got[j].strip())) \
            and match(i + 1, j + 1)

    return match(0, 0)


def shell_commands(code: str) -> list[list[str]]:
    """The commands of a bash block, continuation lines joined and comments dropped."""
    joined = re.sub(r"\\\n", " ", code)
    return [tokens for line in joined.splitlines()
            if (tokens := shlex.split(line, comments=True))]


def _blocks(language: str) -> list[pytest.param]:
    """(code, its expected-output block or None) of every ``language`` block."""
    params = []
    for page in PAGES:
        for index, block in enumerate(code_blocks(page)):
            if block.language == language:
                params.append(pytest.param(block.code, expected_output(page, index),
                                           id=f"{page.name}:{block.line}"))
    return params


def _commands() -> list[pytest.param]:
    """(command tokens, what its transcript says it prints or None) of every shell command."""
    params = []
    for page in PAGES:
        for index, block in enumerate(code_blocks(page)):
            if block.language not in ("bash", "sh", "shell"):
                continue
            output = expected_output(page, index)
            sections = transcript(output) if output and output.language == "console" else []
            for n, tokens in enumerate(shell_commands(block.code)):
                printed = next((text for said, text in sections if said == tokens), None)
                params.append(pytest.param(tokens, printed, id=f"{page.name}:{block.line}:{n}"))
    return params


def test_the_tutorial_has_every_chapter_and_code_to_run():
    names = [page.name for page in CHAPTERS]
    assert [name[:2] for name in names] == [f"{n:02d}" for n in range(10)], names
    assert {"answers.md", "lesson-plan.md", "glossary.md", "summary.md"} <= {
        page.name for page in PAGES}
    assert len(_blocks("python")) >= 8
    assert len(_commands()) >= 10


def test_every_code_block_is_followed_by_its_expected_output():
    for page in PAGES:
        for index, block in enumerate(code_blocks(page)):
            if block.language not in RUNNABLE:
                continue
            output = expected_output(page, index)
            assert output is not None, (
                f"{page.name}:{block.line}: a {block.language} block with no ```text or "
                f"```console block of its output after it")
            if block.language != "python":
                assert output.language == "console", f"{page.name}:{output.line}: use ```console"
                said = [tokens for tokens, _ in transcript(output)]
                assert said == shell_commands(block.code), (
                    f"{page.name}:{output.line}: the transcript's $ lines must be the block's "
                    f"commands, in order")


def test_the_transcript_matcher():
    """Numbers and states are wildcards, words are not, ``...`` skips lines or text."""
    expected = "run d=3\n  std 0.904  -> healthy\n...\nwrote ... in 12 s"
    assert matches_transcript(expected, "run d=3\n  std 0.12 -> collapsed\nwrote x/y in 3 s")
    assert matches_transcript(expected, "run d=3\n std nan -> healthy\na\nb\nwrote z in 1 s")
    assert not matches_transcript(expected, "run d=3\n  mean 0.9 -> healthy\nwrote z in 1 s")
    assert not matches_transcript(expected, "run d=3\n  std 0.9 -> healthy")
    assert not matches_transcript("a 1\nb 2", "a 1\nb 2\nc 3")


# ---------------------------------------------------------------------------------------------
# Python blocks


@pytest.fixture(scope="module")
def tiny_full_runs(tmp_path_factory) -> pathlib.Path:
    """A folder holding ``runs/full/shapes-simsiam`` and ``runs/full/shapes-no-stop-gradient``:
    seven epochs (chapter 8's) of the real full/ pipeline each, on a tiny network and dataset."""
    pytest.importorskip("full.train")
    root = tmp_path_factory.mktemp("tiny-full")
    for recipe in ("simsiam", "no-stop-gradient"):
        out = root / "runs" / "full" / f"shapes-{recipe}"
        with contextlib.redirect_stderr(io.StringIO()):
            assert _main("full.train", ["--dataset", "shapes", "--epochs", "7", "--recipe",
                                        recipe, *TINY_FULL, "--out", str(out)]) == 0
    return root


def _in_folder(tmp_path: pathlib.Path, code: str, request) -> pathlib.Path:
    """An empty working folder, or a copy of the tiny full/ runs when ``code`` reads them."""
    if "runs/full/" in code:
        shutil.copytree(request.getfixturevalue("tiny_full_runs"), tmp_path, dirs_exist_ok=True)
    return tmp_path


def _assert_printed(expected: Block, printed: str, where: str) -> None:
    if expected.language == "text":
        assert _clean(printed) == _clean(expected.code), (
            f"{where}: the block printed\n{printed}\nbut the tutorial shows\n{expected.code}")
    else:
        assert matches_transcript(expected.code, printed), (
            f"{where}: the block printed\n{printed}\nwhich does not match the tutorial's\n"
            f"{expected.code}")


@pytest.mark.parametrize(("code", "expected"), _blocks("python"))
def test_python_block_prints_its_expected_output(code, expected, tmp_path, monkeypatch, request):
    assert expected is not None, "the block is not followed by its expected output"
    monkeypatch.syspath_prepend(str(ROOT))
    monkeypatch.chdir(_in_folder(tmp_path, code, request))
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(code, "<tutorial block>", "exec"), {"__name__": "__main__"})
    _assert_printed(expected, printed.getvalue(), "python block")


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


@pytest.fixture(scope="module")
def figures_run(tmp_path_factory) -> dict[str, object]:
    """``python -m tutorial.figures --steps 40`` once, with every Figure described as it is
    saved (its suptitle, and each visible axes' title and labels)."""
    from matplotlib.figure import Figure

    out = tmp_path_factory.mktemp("run") / "tutorial" / "figures"  # named as the default
    described: dict[str, dict[str, object]] = {}
    savefig = Figure.savefig

    def spy(fig, fname, *args, **kwargs):
        described[pathlib.Path(fname).name] = describe_figure(fig)
        return savefig(fig, fname, *args, **kwargs)

    printed = io.StringIO()
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(printed):
        patch.setattr(Figure, "savefig", spy)
        status = _main("tutorial.figures", ["--steps", "40", "--out", str(out)])
    return {"status": status, "out": out, "figures": described, "printed": printed.getvalue()}


def describe_figure(fig) -> dict[str, object]:
    """The texts a reader needs: the suptitle and, per visible axes, its title and labels."""
    axes = []
    for ax in fig.axes:
        if not ax.get_visible() or not (ax.has_data() or ax.get_title()):
            continue
        axes.append({"title": ax.get_title(), "xlabel": ax.get_xlabel(),
                     "ylabel": ax.get_ylabel(),
                     "zlabel": ax.get_zlabel() if hasattr(ax, "get_zlabel") else None})
    return {"suptitle": fig.get_suptitle(), "axes": axes}


TOY_RUNS: dict[tuple[str, ...], str] = {}  # what each toy.run command printed, at 50 steps


@pytest.mark.parametrize(("tokens", "printed"), _commands())
def test_shell_command_runs(tokens, printed, tmp_path, monkeypatch, capsys, request):
    assert printed is not None, (
        f"{shlex.join(tokens)!r} has no '$ ' line in a ```console transcript after its block")
    monkeypatch.syspath_prepend(str(ROOT))
    monkeypatch.chdir(_in_folder(tmp_path, " ".join(tokens), request))
    if tokens[0] in NOT_RUN:
        return  # pip and streamlit lines: their transcript is there, they are not run
    split = _split(tokens)
    assert split is not None, f"no handler for the command {shlex.join(tokens)!r}"
    module, argv, world = split
    where = shlex.join(tokens)

    if module == "toy.run":
        key = tuple(argv)
        if key not in TOY_RUNS:  # a command shown twice in the tutorial runs once here
            assert _main(module, [*argv, "--steps", "50"]) == 0
            TOY_RUNS[key] = capsys.readouterr().out
        _assert_printed(Block("console", printed, 0, 0), TOY_RUNS[key], where)
    elif module == "toy.claims":
        assert _main(module, [*argv, "--steps", "200", "--seeds", "0", "--workers", "1"]) == 0
        _assert_printed(Block("console", printed, 0, 0), capsys.readouterr().out, where)
    elif module == "tutorial.figures":
        assert argv == [], "the figures test runs tutorial.figures with its own flags"
        run = request.getfixturevalue("figures_run")
        assert run["status"] == 0
        written = {p.name for p in pathlib.Path(run["out"]).glob("*.png")}
        committed = {p.name for p in FIGURES.glob("*.png")}
        assert written == committed, "regenerate tutorial/figures: python -m tutorial.figures"
        _assert_printed(Block("console", printed, 0, 0), run["printed"], where)
    elif module == "full.train":
        pytest.importorskip("full.train")
        gpu = world > 1 or tokens[0] == "torchrun" or _flag(argv, "--dataset") != "shapes"
        if gpu:
            _parse_full_train(argv, tmp_path, world)
        else:
            assert _main(module, [*argv, *TINY_FULL]) == 0  # into runs/full/ of tmp_path
            assert list(tmp_path.glob("runs/full/*/metrics.jsonl"))
            captured = capsys.readouterr()  # full.train's lines: stdout (stderr: warnings)
            _assert_printed(Block("console", printed, 0, 0), captured.out + captured.err, where)
    elif module == "full.paper_table":
        pytest.importorskip("full.paper_table")
        assert _main(module, ["--help"]) == 0
        _parse_full_train(_without(argv, "--recipes", "--out"), tmp_path)
    elif module == "full.report":
        # The tiny runs of the tiny_full_runs fixture, under the folder names the command gives.
        runs = list(itertools.takewhile(lambda a: not a.startswith("-"), argv))
        assert runs, "full.report needs run folders"
        assert all((tmp_path / folder / "metrics.jsonl").exists() for folder in runs), runs
        figure = tmp_path / (_flag(argv, "--out") or "compare.png")  # relative: inside tmp_path
        figure.parent.mkdir(parents=True, exist_ok=True)
        assert _main(module, argv) == 0
        assert figure.stat().st_size > 0
        _assert_printed(Block("console", printed, 0, 0), capsys.readouterr().out, where)
    elif module == "full.bench":
        bench = pytest.importorskip("full.bench")
        assert _main(module, ["--help"]) == 0
        bench.build_parser().parse_args(argv)
    else:
        pytest.fail(f"no handler for python -m {module}: add one to {pathlib.Path(__file__).name}")


def test_every_figure_has_a_title_and_labelled_axes(figures_run):
    """Read from the matplotlib Figure objects as tutorial.figures saves them."""
    figures = figures_run["figures"]
    assert {name for name in figures if name.endswith(".png")} == {
        p.name for p in FIGURES.glob("*.png")}
    for name, figure in figures.items():
        assert figure["axes"], f"{name}: no axes with content"
        for ax in figure["axes"]:
            assert figure["suptitle"] or ax["title"], f"{name}: an axes without a title"
            assert ax["xlabel"], f"{name}: axes {ax['title']!r} has no x label"
            assert ax["ylabel"], f"{name}: axes {ax['title']!r} has no y label"
            assert ax["zlabel"] is None or ax["zlabel"], f"{name}: 3-D axes without a z label"


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


PAPER = "https://arxiv.org/abs/2203.16262"  # Zhang et al., ICLR 2022
WEB = re.compile(r"https://[a-z0-9.-]+\.[a-z]{2,}(?::\d+)?(?:/[^\s<>()\[\]]*)?")


def slug(heading: str) -> str:
    """GitHub's anchor of a Markdown heading: lower case, punctuation dropped, spaces to '-'."""
    text = re.sub(r"[*`]|\[([^\]]*)\]\([^)]*\)", lambda m: m.group(1) or "", heading)
    text = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return text.replace(" ", "-")


def anchors(page: pathlib.Path) -> set[str]:
    """The anchors of a Markdown page: its headings' slugs (numbered like GitHub's when they
    repeat) and explicit ``<a id="...">`` tags."""
    text = re.sub(r"^([ \t]*)```.*?^\1```", "", page.read_text(encoding="utf-8"),
                  flags=re.S | re.M)
    seen: dict[str, int] = {}
    out = set(re.findall(r'<a id="([^"]+)"', text))
    for heading in re.findall(r"^#{1,6}\s+(.*?)\s*#*$", text, flags=re.M):
        base = slug(heading)
        n = seen.get(base, 0)
        out.add(base if n == 0 else f"{base}-{n}")
        seen[base] = n + 1
    return out


def test_slug_follows_github():
    assert slug("A. Seeing collapse") == "a-seeing-collapse"
    assert slug("E4. De-centering of strength *c*") == "e4-de-centering-of-strength-c"
    assert slug("Why `o_e` ≈ −0.5?") == "why-o_e--05"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_relative_links_and_figures_exist(page):
    for target in _targets(page):
        if re.match(r"^[a-z]+:", target):
            continue
        name, _, anchor = target.partition("#")
        path = (page.parent / name).resolve() if name else page
        assert path.exists(), f"{page.name}: broken link {target}"
        assert path.is_relative_to(ROOT), f"{page.name}: {target} leaves the repository"
        if anchor and path.suffix == ".md":
            assert anchor in anchors(path), f"{page.name}: {target}: no heading #{anchor}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_web_links_are_well_formed(page):
    """Format only, no network: https, a host name, no spaces; arXiv links are abstract pages."""
    for target in _targets(page):
        if not re.match(r"^[a-z]+:", target) or target.startswith(APP):
            continue
        assert WEB.fullmatch(target), f"{page.name}: {target} is not a well-formed https link"
        if "arxiv.org" in target:
            assert re.fullmatch(r"https://arxiv\.org/abs/\d{4}\.\d{4,5}(v\d+)?", target), target


@pytest.mark.parametrize("page", [TUTORIAL / "00-question.md", ROOT / "README.md"],
                         ids=lambda p: p.name)
def test_the_paper_is_linked(page):
    assert PAPER in _targets(page), f"{page.name} does not link the paper, {PAPER}"


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
    commands = [tokens for block in code_blocks(page) if block.language in ("bash", "sh", "shell")
                for tokens in shell_commands(block.code)]
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
    for block in code_blocks(page):
        if block.language != "math":
            continue
        after = iter(lines[block.end + 1:])  # the lines after the closing fence
        following = next((text for text in after if text.strip()), "")
        assert following.startswith("*In words"), (
            f"{page.name}:{block.line}: the equation {block.code[:50]!r} has no '*In words' line")


# ---------------------------------------------------------------------------------------------
# The lesson plan

PLAN = TUTORIAL / "lesson-plan.md"
SWITCH_TO = "decorrelation-only"  # the preset the plan switches the naive run to, mid-run
# What the plan says each of its app links shows, per side: (representation, banner reading).
# A lesson link must agree with the app's own Lesson.outcome, which
# tests/classroom/test_lessons.py plays at the lesson's settings; the other links are trained
# here with the app's settings for the time the plan gives them.
PLAN_OUTCOMES: dict[str, tuple[tuple[str, str], ...]] = {
    "lesson=1": (("z", "collapsed"), ("z", "spread")),
    "lesson=2": (("z", "collapsed"), ("z", "spread")),
    "lesson=3": (("z", "collapsed"), ("z", "spread")),
    "lesson=4": (("p", "collapsed"), ("p", "spread")),
    "lesson=5": (("z", "spread"), ("z", "collapsed")),
    "lesson=6": (("z", "spread"), ("z", "spread")),
    "lesson=7": (("z", "spread"), ("z", "collapsed")),
    "recipe=infonce&tau=0.05": (("z", "spread"),),
    "recipe=infonce&tau=5": (("z", "spread"),),
    "recipe=symmetric-predictor&compare=simsiam&view=P": (("p", "collapsed"), ("p", "spread")),
    "recipe=no-predictor": (("z", "collapsed"),),  # then SWITCH_TO: ("z", "spread")
}
# What the plan says of InfoNCE's two bars after the watch: the range of de-correlation /
# de-centering (several times larger at tau = 0.05; about equal, within a factor 2, at tau = 5).
PLAN_BARS = {"recipe=infonce&tau=0.05": (3.0, float("inf")), "recipe=infonce&tau=5": (0.5, 2.0)}
PLAN_WATCH_S = 10.0  # seconds of play the plan gives a link that is not an app lesson ...
PLAN_WATCH_LONGER_S = {"recipe=infonce&tau=0.05": 20.0, "recipe=infonce&tau=5": 20.0}  # ... or


def _plan_links() -> list[str]:
    return sorted({urlsplit(url).query for url in _app_links(PLAN)} - {
        "lesson=1&hide=lr,weight_decay,batch,seed,augmentation,dataset"})


def test_every_app_link_of_the_plan_states_its_outcome():
    assert _plan_links() == sorted(PLAN_OUTCOMES)


@pytest.mark.parametrize("query", [q for q in PLAN_OUTCOMES if q.startswith("lesson=")])
def test_the_plan_s_lessons_say_what_the_app_s_lessons_show(query):
    from classroom.lessons import LESSONS

    chosen = LESSONS[int(query.split("=")[1]) - 1]
    view = str(chosen.settings.get("view", "z")).lower()
    assert tuple(rep for rep, _ in PLAN_OUTCOMES[query]) == (view,) * len(chosen.outcome)
    assert tuple(reading for _, reading in PLAN_OUTCOMES[query]) == chosen.outcome


def _readings(run, sides: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    return tuple((rep, "collapsed" if run.state(i, rep) == "collapsed" else "spread")
                 for i, (rep, _) in enumerate(sides))


@pytest.mark.parametrize("query", [q for q in PLAN_OUTCOMES if not q.startswith("lesson=")])
def test_the_plan_s_other_links_show_what_it_says(query, one_thread):
    """Trained with the app's settings for the link (its dimension among them), for the steps
    the slowest class sees in PLAN_WATCH_S seconds (the app's lessons are also checked at the
    fastest rate, by tests/classroom/test_lessons.py; here one point keeps the test short)."""
    from classroom.controls import config_of, from_query, recipe_of
    from classroom.lessons import CLASSROOM_STEPS_PER_S
    from classroom.live import LiveRun
    from collapse.recipe import preset

    values, warnings = from_query(dict(parse_qsl(query)))
    assert warnings == []
    recipes = [recipe_of(values)] + ([preset(values["compare"])]
                                     if values["compare"] != "none" else [])
    sides = PLAN_OUTCOMES[query]
    assert len(recipes) == len(sides)
    run = LiveRun(recipes, config_of(values), values["seed"])
    steps = round(PLAN_WATCH_LONGER_S.get(query, PLAN_WATCH_S) * CLASSROOM_STEPS_PER_S[0])
    run.tick(steps=steps)
    assert _readings(run, sides) == sides, (query, run.steps, run.latest(0))
    if query in PLAN_BARS:
        row = run.latest(0)
        ratio = row["grad_infonce_decorrelation"] / row["grad_infonce_decentering"]
        low, high = PLAN_BARS[query]
        assert low <= ratio <= high, (query, run.steps, ratio)
    if query == "recipe=no-predictor":
        assert run.set_recipe(0, preset(SWITCH_TO))
        run.tick(steps=steps)
        assert _readings(run, sides) == (("z", "spread"),), (query, SWITCH_TO, run.latest(0))


def _question_items(page: pathlib.Path) -> list[str]:
    """The numbered items of the plan's 'Predict, then check' lists, each as one string."""
    items, current, inside = [], None, False
    for line in page.read_text(encoding="utf-8").splitlines():
        if line.startswith("**Predict, then check"):
            inside = True
        elif line.startswith("#"):
            inside = False
        if not inside:
            continue
        if re.match(r"^\d+\. ", line):
            current = [line]
            items.append(current)
        elif current is not None and line.startswith("   "):
            current.append(line)
        else:
            current = None
    return [" ".join(item) for item in items]


def test_every_question_of_the_plan_links_to_its_answer():
    items = _question_items(PLAN)
    assert len(items) >= 10
    for item in items:
        for part in re.split(r"Exit question", item):
            if "?" in part:
                assert re.search(r"\[answer[^\]]*\]\([^)]+\)", part.split("?")[-1]), (
                    f"a question of the plan has no answer link after it: {part[:80]!r}")
