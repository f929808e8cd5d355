"""Tests for full.report: several runs on one figure, and one-line errors for bad folders."""

from __future__ import annotations

import json

import pytest

from full import report

PNG = b"\x89PNG\r\n\x1a\n"


def fake_run(folder, recipe, center_norms, chance=0.1, summary=True):
    folder.mkdir(parents=True)
    rows = [{"epoch": e, "std_scaled": 1 - m, "center_norm": m, "effective_rank": 8.0,
             "knn_acc": 0.5} for e, m in enumerate(center_norms)]
    (folder / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    if summary:
        (folder / "summary.json").write_text(json.dumps({"recipe": recipe, "chance": chance}))
    return folder


def test_two_runs_on_one_figure_labelled_by_recipe(tmp_path, monkeypatch):
    a = fake_run(tmp_path / "a", "simsiam", [0.1, 0.3])
    b = fake_run(tmp_path / "b", "no-stop-gradient", [0.1, 0.99])
    drawn = {}
    real = report.plot_runs

    def spy(runs, path, title, chance=None):
        drawn.update(runs=runs, chance=chance)
        real(runs, path, title, chance)

    monkeypatch.setattr(report, "plot_runs", spy)
    out = tmp_path / "figs" / "compare.png"
    assert report.main([str(a), str(b), "--out", str(out)]) == 0
    assert out.read_bytes().startswith(PNG)
    assert list(drawn["runs"]) == ["simsiam", "no-stop-gradient"]
    assert [r["center_norm"] for r in drawn["runs"]["no-stop-gradient"]] == [0.1, 0.99]
    assert drawn["chance"] == 0.1


def test_runs_of_one_recipe_keep_apart_and_unfinished_runs_use_the_folder_name(tmp_path,
                                                                              monkeypatch):
    a = fake_run(tmp_path / "seed0", "simsiam", [0.1, 0.3])
    b = fake_run(tmp_path / "seed1", "simsiam", [0.1, 0.2], chance=0.01)
    c = fake_run(tmp_path / "running", "", [0.1], summary=False)
    drawn = {}
    monkeypatch.setattr(report, "plot_runs",
                        lambda runs, path, title, chance=None: drawn.update(runs=runs,
                                                                            chance=chance))
    assert report.main([str(a), str(b), str(c), "--out", str(tmp_path / "c.png")]) == 0
    assert list(drawn["runs"]) == ["simsiam", f"simsiam ({b})", "running"]
    assert drawn["chance"] is None  # the runs disagree on the chance level: no line


@pytest.mark.parametrize(("setup", "words"), [
    (lambda p: None, "no metrics.jsonl"),
    (lambda p: (p.mkdir(), (p / "metrics.jsonl").write_text("{not json\n")), "not JSON lines"),
    (lambda p: (p.mkdir(), (p / "metrics.jsonl").write_text('{"loss": 1}\n')), "'epoch'"),
])
def test_bad_run_folders_are_one_line_and_leave_the_old_figure(setup, words, tmp_path, capsys):
    folder = tmp_path / "run"
    setup(folder)
    out = tmp_path / "compare.png"
    out.write_bytes(b"old figure")
    with pytest.raises(SystemExit) as exit_:
        report.main([str(folder), "--out", str(out)])
    err = capsys.readouterr().err.strip()
    assert exit_.value.code == 2
    assert "\n" not in err
    assert words in err
    assert str(folder) in err
    assert out.read_bytes() == b"old figure"


def test_out_must_be_a_png(tmp_path, capsys):
    run = fake_run(tmp_path / "a", "simsiam", [0.1])
    with pytest.raises(SystemExit):
        report.main([str(run), "--out", str(tmp_path / "c.jpg")])
    assert "must end in .png" in capsys.readouterr().err


def test_eta_over_epochs_is_drawn_beside_the_papers_value(tmp_path, monkeypatch):
    # The paper's Fig. 5a on a ResNet run: eta per epoch, and the paper's -0.5 as a line.
    import matplotlib.figure

    drawn = {}
    real = matplotlib.figure.Figure.savefig

    def spy(fig, *args, **kwargs):
        drawn["fig"] = fig
        return real(fig, *args, **kwargs)

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", spy)
    rows = [{"epoch": e, "grad_eta": v} for e, v in enumerate([-1.0, -0.7, -0.6])]
    report.plot_curves(rows, tmp_path / "curves.png", "simsiam")
    (ax,) = [a for a in drawn["fig"].axes if a.get_title().startswith("eta")]
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert list(lines["simsiam"].get_xdata()) == [0, 1, 2]
    assert list(lines["simsiam"].get_ydata()) == [-1.0, -0.7, -0.6]
    assert set(lines["paper"].get_ydata()) == {report.PAPER_ETA} == {-0.5}
