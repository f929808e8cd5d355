"""Figures of ``toy.claims`` that mirror the paper's Fig. 4, 5a, 5b, 6 and an InfoNCE tau sweep.

Each function takes the results of :func:`toy.claims.run_all` and writes one PNG; every line is
one seed. Nothing here computes science: the numbers come from the shared metrics and the
gradient decomposition recorded during training.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from collapse.criterion import COLLAPSED_STD_SCALED  # noqa: E402

Results = dict[str, dict[str, object]]


def _series(results: Results, label: str, key: str) -> tuple[np.ndarray, np.ndarray]:
    curves = results[label]["curves"]
    return np.array(curves["step"])[:, 0], np.array(curves[key])  # (records,), (records, M)


STYLES = ("-", "--", ":", "-.")  # one line style per seed


def _seeds(results: Results, members: int) -> list[str]:
    """Legend names of the members: ``seed s`` when ``results['analytic']['seeds']`` names
    them, else ``run 1``, ``run 2``, ..."""
    seeds = results.get("analytic", {}).get("seeds")
    if seeds is not None and len(seeds) == members:
        return [f"seed {s}" for s in seeds]
    return [f"run {m + 1}" for m in range(members)]


def _save(fig: plt.Figure, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def fig4_dummies(results: Results, path: Path) -> Path:
    """Fig. 4: the center component raises m_o; the residual component raises m_r."""
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    for ax, label, key, name in ((axes[0], "center-dummy", "z_center_norm", "m_o = |o|"),
                                 (axes[1], "residual-dummy", "z_residual_norm",
                                  "m_r = mean |r|")):
        steps, values = _series(results, label, key)
        for m, seed in enumerate(_seeds(results, values.shape[1])):
            ax.plot(steps, values[:, m], lw=1.2, ls=STYLES[m % len(STYLES)], label=seed)
        ax.set(title=f"{label}: -Z_a.sg({'o' if 'center' in label else 'r_a'})", xlabel="step",
               ylabel=name, ylim=(0, 1.05))
        ax.legend(fontsize=8)
    return _save(fig, path)


def fig5a_decentering(results: Results, path: Path) -> Path:
    """Fig. 5a: cos(o_e - eta o_p, o_p) against eta, early / middle / late in SimSiam training.

    From the recorded |o_e| = a, |o_p| = b and cos(o_e, o_p) = c:
    ``cos(eta) = (a c - eta b) / sqrt(a^2 - 2 eta a b c + eta^2 b^2)``.
    """
    steps, a = _series(results, "simsiam", "grad_extra_center_norm")
    _, b = _series(results, "simsiam", "grad_anchor_center_norm")
    _, c = _series(results, "simsiam", "grad_extra_center_cos")
    eta = np.linspace(-2, 1, 301)
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    seeds = _seeds(results, a.shape[1])
    for index, shade in ((1, "tab:blue"), (len(steps) // 2, "tab:orange"),
                         (len(steps) - 1, "tab:green")):
        for m, seed in enumerate(seeds):
            ai, bi, ci = a[index, m], b[index, m], c[index, m]
            cos = (ai * ci - eta * bi) / np.sqrt(
                np.maximum(ai**2 - 2 * eta * ai * bi * ci + eta**2 * bi**2, 1e-12))
            axes[0].plot(eta, cos, color=shade, lw=1, ls=STYLES[m % len(STYLES)],
                         label=f"step {int(steps[index])}, {seed}")
    axes[0].axhline(0, color="k", lw=0.5)
    axes[0].set(xlabel="eta", ylabel="cos(o_e - eta o_p, o_p)",
                title="SimSiam: where the curve crosses 0, o_e ~ eta o_p")
    axes[0].legend(fontsize=7)
    _, crossing = _series(results, "simsiam", "grad_eta")
    for m, seed in enumerate(seeds):
        axes[1].plot(steps[1:], crossing[1:, m], lw=1.2, ls=STYLES[m % len(STYLES)], label=seed)
    axes[1].axhline(-0.5, color="k", ls="--", lw=0.8, label="paper: -0.5")
    axes[1].axhline(0, color="k", lw=0.5)
    axes[1].set(xlabel="step", ylabel="eta at the zero crossing", title="trajectory of eta")
    axes[1].legend()
    return _save(fig, path)


def fig5b_decorrelation(results: Results, path: Path) -> Path:
    """Fig. 5b: collapse with the naive loss, then the correlation regulariser alone."""
    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    for label, colour, name in (("no-predictor->decorrelation-only", "tab:blue",
                                 "then correlation regulariser"),
                                ("no-predictor->no-predictor", "tab:gray", "control: naive")):
        steps, values = _series(results, label, "z_residual_norm")
        for m, seed in enumerate(_seeds(results, values.shape[1])):
            ax.plot(steps, values[:, m], color=colour, lw=1, ls=STYLES[m % len(STYLES)],
                    label=f"{name}, {seed}")
    ax.axvline(results["no-predictor->decorrelation-only"]["switch"], color="k", ls=":", lw=0.8)
    ax.set(xlabel="step", ylabel="m_r = mean |r|", ylim=(0, 1.05),
           title="naive Siamese, then de-correlation only")
    ax.legend(fontsize=7)
    return _save(fig, path)


def fig6_covariance(results: Results, path: Path) -> Path:
    """Fig. 6: SimSiam's off-diagonal feature covariance over training (form ours)."""
    steps, values = _series(results, "simsiam", "z_off_diagonal_covariance")
    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    for m, seed in enumerate(_seeds(results, values.shape[1])):
        ax.plot(steps, values[:, m], lw=1.2, ls=STYLES[m % len(STYLES)], label=seed)
    ax.legend(fontsize=8)
    ax.set(xlabel="step", ylabel="sum of squared off-diagonal cov / d",
           title="SimSiam: feature covariance of Z")
    return _save(fig, path)


def tau_sweep_figure(results: Results, path: Path) -> Path:
    """InfoNCE: de-centering |o|/tau against de-correlation mean|sum lambda r|/tau."""
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    sweeps = results["analytic"]["tau_sweep"]
    for m, (sweep, seed) in enumerate(zip(sweeps, _seeds(results, len(sweeps)), strict=True)):
        style = STYLES[m % len(STYLES)]
        axes[0].loglog(sweep["tau"], sweep["decentering"], "o", ls=style, color="tab:blue",
                       lw=1, label=f"|o| / tau (de-centering), {seed}")
        axes[0].loglog(sweep["tau"], sweep["decorrelation"], "s", ls=style, color="tab:red",
                       lw=1, label=f"mean |sum lambda r| / tau (de-correlation), {seed}")
        axes[1].loglog(sweep["tau"], sweep["ratio"], "o", ls=style, color="tab:purple", lw=1,
                       label=seed)
    axes[0].set(xlabel="tau", ylabel="gradient magnitude", title="InfoNCE extra gradient parts")
    axes[0].legend(fontsize=7)
    axes[1].set(xlabel="tau", ylabel="de-correlation / de-centering",
                title="larger tau: relatively more de-centering")
    axes[1].legend(fontsize=8)
    return _save(fig, path)


def collapse_overview(results: Results, path: Path) -> Path:
    """Final std * sqrt(d) of Z and of P for every experiment: bars are the mean over seeds,
    dots each seed; sorted by the lower of the two, so the collapsing runs sit at the bottom."""
    labels = [k for k in results if k != "analytic"]

    def values(label: str, rep: str) -> np.ndarray | None:
        finals = results[label]["final"]
        key = f"{rep}_std_scaled"
        return np.array([f[key] for f in finals]) if key in finals[0] else None

    z = {k: values(k, "z") for k in labels}
    p = {k: values(k, "p") for k in labels}
    labels.sort(key=lambda k: -min(z[k].mean(), p[k].mean() if p[k] is not None else np.inf))
    fig, ax = plt.subplots(figsize=(8, 0.42 * len(labels) + 1.8))
    y = np.arange(len(labels))
    height = 0.38
    for offset, rep, series, colour, name in (
            (-height / 2, "z", z, "tab:blue", "Z, the encoder output"),
            (height / 2, "p", p, "tab:orange", "P = h(z), the prediction (no bar: no predictor)")):
        for i, label in enumerate(labels):
            v = series[label]
            if v is None:
                continue
            ax.barh(y[i] + offset, v.mean(), height=height, color=colour, alpha=0.75,
                    label=name if i == next(j for j, k in enumerate(labels)
                                            if series[k] is not None) else None)
            ax.plot(v, np.full(len(v), y[i] + offset), "k.", ms=3,
                    label="each seed" if (rep, i) == ("z", 0) else None)
    ax.axvline(COLLAPSED_STD_SCALED, color="tab:red", ls="--", label="collapse threshold 0.3")
    ax.axvline(1, color="k", ls=":", label="isotropic spread (1)")
    ax.set_yticks(y, labels, fontsize=8)
    ax.set(xlabel="std * sqrt(d) at the end of training (bar: mean over seeds)", xlim=(0, 1.1),
           ylabel="experiment")
    ax.set_title("Spread of Z and of P at the end of every toy experiment\n"
                 "symmetric-predictor, simsiam-no-extra: Z spread, P collapsed", fontsize=10)
    ax.invert_yaxis()
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.12 * 12 / len(labels)),
              ncol=2, frameon=False)
    return _save(fig, path)


def claim_figures(results: Results, out: Path) -> list[Path]:
    """Every figure of the claims run, written into ``out``."""
    return [
        fig4_dummies(results, out / "fig4_dummy_losses.png"),
        fig5a_decentering(results, out / "fig5a_decentering.png"),
        fig5b_decorrelation(results, out / "fig5b_decorrelation.png"),
        fig6_covariance(results, out / "fig6_covariance.png"),
        tau_sweep_figure(results, out / "infonce_tau_sweep.png"),
        collapse_overview(results, out / "collapse_overview.png"),
    ]
