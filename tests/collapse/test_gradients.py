"""Tests for collapse.gradients: the decomposition of paper §3-§4 against autograd (float64)."""

import pytest
import torch

from collapse import gradients as gr
from collapse.losses import ViewOutputs, pair
from collapse.metrics import normalize
from collapse.recipe import preset

M, B, D = 2, 12, 6
TAUS = (0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 10.0)


def _random(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def _views(predictor=True, seed=0):
    t = _random(4, M, B, D, seed=seed)
    t[:2] += 0.8  # a non-zero center for Z
    a = ViewOutputs(t[0], t[2] if predictor else None)
    b = ViewOutputs(t[1], t[3] if predictor else None)
    return a, b


def _pair_batch(seed=0):
    """Anchors and their positives (noisy copies), with a common center."""
    base = _random(M, B, D, seed=seed) + 1.0
    anchor = normalize(base + 0.3 * _random(M, B, D, seed=seed + 1))
    candidates = normalize(base + 0.3 * _random(M, B, D, seed=seed + 2))
    return anchor, candidates


# (a) InfoNCE closed form ----------------------------------------------------------------------


@pytest.mark.parametrize("tau", TAUS)
def test_infonce_closed_form_equals_autograd(tau):
    anchor, candidates = _pair_batch()
    parts = gr.infonce_parts(anchor, candidates, tau)
    assert set(parts) == {"positive", "decentering", "decorrelation"}
    for value in parts.values():
        assert value.shape == (M, B, D)
    closed = parts["positive"] + parts["decentering"] + parts["decorrelation"]
    autograd = gr.anchor_gradient(preset("infonce").replace(tau=tau), anchor, candidates)
    torch.testing.assert_close(closed, autograd, rtol=0, atol=1e-10)
    # The pieces are what the paper names them.
    o = candidates.mean(-2, keepdim=True)
    torch.testing.assert_close(parts["positive"], candidates / tau, rtol=0, atol=0)
    torch.testing.assert_close(parts["decentering"], (-o / tau).expand(M, B, D),
                               rtol=0, atol=1e-15)


def test_infonce_decorrelation_weights_residuals_by_softmax():
    anchor, candidates = _pair_batch(seed=3)
    tau = 0.2
    parts = gr.infonce_parts(anchor, candidates, tau)
    r = candidates - candidates.mean(-2, keepdim=True)
    for m in range(M):
        for i in range(B):
            lam = torch.softmax(candidates[m] @ anchor[m, i] / tau, dim=0)
            expected = -(lam[:, None] * r[m]).sum(0) / tau
            torch.testing.assert_close(parts["decorrelation"][m, i], expected, rtol=0, atol=1e-12)


def test_infonce_decompose_matches_closed_form():
    a, b = _views(predictor=False)
    recipe = preset("infonce")
    parts = gr.decompose(recipe, a, b)
    anchor, _, target = pair(recipe, a, b)
    closed = gr.infonce_parts(anchor, target, recipe.tau)
    torch.testing.assert_close(parts.gradient, sum(closed.values()), rtol=0, atol=1e-10)
    torch.testing.assert_close(parts.basic, closed["positive"], rtol=0, atol=0)
    torch.testing.assert_close(parts.extra, closed["decentering"] + closed["decorrelation"],
                               rtol=0, atol=1e-10)


def test_larger_tau_gives_relatively_more_decentering():
    """|decorrelation| / |decentering| (batch mean of per-sample norms) falls as tau grows."""
    anchor, candidates = _pair_batch(seed=4)
    ratios = []
    for tau in TAUS:
        parts = gr.infonce_parts(anchor, candidates, tau)
        decorrelation = parts["decorrelation"].norm(dim=-1).mean(-1)
        decentering = parts["decentering"].norm(dim=-1).mean(-1)
        ratios.append(decorrelation / decentering)
    ratios = torch.stack(ratios)  # (taus, M)
    assert bool((ratios[1:] < ratios[:-1]).all()), ratios
    assert bool((ratios[-1] < 0.1 * ratios[0]).all()), ratios


# (b) the dummy -Z_a term and the projection on the sphere -------------------------------------


def test_dummy_term_of_the_mse_has_no_effect_on_the_gradient():
    z = (_random(B, D, seed=5) * 2).requires_grad_(True)
    z_b = normalize(_random(B, D, seed=6))
    z_a = normalize(z)
    mse = 0.5 * ((z_a - z_b.detach()) ** 2).sum()
    dot = -(z_a * z_b.detach()).sum()
    (g_mse,) = torch.autograd.grad(mse, z, retain_graph=True)
    (g_dot,) = torch.autograd.grad(dot, z)
    assert g_dot.abs().sum() > 0
    torch.testing.assert_close(g_mse, g_dot, rtol=0, atol=1e-12)


def test_sphere_projection_equals_autograd():
    z = (_random(M, B, D, seed=7) * 3).requires_grad_(True)
    z_b = normalize(_random(M, B, D, seed=8))
    z_a = normalize(z)
    for loss, grad_unit in (
        (0.5 * ((z_a - z_b) ** 2).sum(), (z_a - z_b).detach()),
        (-(z_a * z_b).sum(), -z_b),
    ):
        (autograd,) = torch.autograd.grad(loss, z, retain_graph=True)
        torch.testing.assert_close(gr.sphere_projection(z.detach(), grad_unit), autograd,
                                   rtol=0, atol=1e-12)


def test_sphere_projection_removes_the_radial_part():
    z = _random(B, D, seed=9) * 2
    z_unit = normalize(z)
    scale = _random(B, 1, seed=10)
    torch.testing.assert_close(gr.sphere_projection(z, scale * z_unit), torch.zeros_like(z),
                               rtol=0, atol=1e-15)
    g = _random(B, D, seed=11)
    projected = gr.sphere_projection(z, g)
    torch.testing.assert_close((projected * z).sum(-1), torch.zeros(B, dtype=torch.float64),
                               rtol=0, atol=1e-12)
    tangent = g - z_unit * (g * z_unit).sum(-1, keepdim=True)
    torch.testing.assert_close(projected, tangent / z.norm(dim=-1, keepdim=True),
                               rtol=0, atol=1e-15)


# (c) decompose --------------------------------------------------------------------------------


def _check_split(parts):
    torch.testing.assert_close(parts.extra, parts.gradient - parts.basic, rtol=0, atol=1e-15)
    torch.testing.assert_close(parts.extra_center, parts.extra.mean(-2), rtol=0, atol=1e-15)
    torch.testing.assert_close(parts.extra_residual,
                               parts.extra - parts.extra.mean(-2, keepdim=True),
                               rtol=0, atol=1e-15)


def test_decompose_simsiam():
    a, b = _views()
    parts = gr.decompose(preset("simsiam"), a, b)
    z_b, p_a, p_b = normalize(b.z), normalize(a.p), normalize(b.p)
    torch.testing.assert_close(parts.anchor, p_a, rtol=0, atol=0)
    torch.testing.assert_close(parts.gradient, z_b, rtol=0, atol=1e-12)
    torch.testing.assert_close(parts.basic, p_b, rtol=0, atol=0)
    torch.testing.assert_close(parts.extra, z_b - p_b, rtol=0, atol=1e-12)
    torch.testing.assert_close(parts.extra_center, (z_b - p_b).mean(-2), rtol=0, atol=1e-12)
    _check_split(parts)


def test_decompose_no_predictor_has_no_extra_gradient():
    a, b = _views(predictor=False)
    parts = gr.decompose(preset("no-predictor"), a, b)
    torch.testing.assert_close(parts.basic, normalize(b.z), rtol=0, atol=0)
    torch.testing.assert_close(parts.extra, torch.zeros(M, B, D, dtype=torch.float64),
                               rtol=0, atol=1e-12)


def test_decompose_triplet_extra_is_minus_the_negative():
    a, b = _views(predictor=False)
    parts = gr.decompose(preset("triplet"), a, b)
    z_b = normalize(b.z)
    torch.testing.assert_close(parts.extra, -z_b.roll(1, dims=-2), rtol=0, atol=1e-12)
    _check_split(parts)


@pytest.mark.parametrize("part", ["center", "residual"])
def test_decompose_triplet_surgery(part):
    a, b = _views(predictor=False)
    full = gr.decompose(preset("triplet"), a, b)
    kept = gr.decompose(preset(f"triplet-{part}"), a, b)
    if part == "center":
        torch.testing.assert_close(kept.extra_center, full.extra_center, rtol=0, atol=1e-12)
        torch.testing.assert_close(kept.extra_residual, torch.zeros_like(full.extra_residual),
                                   rtol=0, atol=1e-12)
    else:
        torch.testing.assert_close(kept.extra_residual, full.extra_residual, rtol=0, atol=1e-12)
        torch.testing.assert_close(kept.extra_center, torch.zeros_like(full.extra_center),
                                   rtol=0, atol=1e-12)


def test_decompose_center_dummy_has_zero_residual_part():
    a, b = _views(predictor=False)
    parts = gr.decompose(preset("center-dummy"), a, b)
    z_a = normalize(a.z)
    torch.testing.assert_close(parts.extra_center, z_a.mean(-2), rtol=0, atol=1e-12)
    torch.testing.assert_close(parts.extra_residual, torch.zeros(M, B, D, dtype=torch.float64),
                               rtol=0, atol=1e-12)
    assert parts.extra_center.abs().sum() > 0


def test_decompose_residual_dummy_has_zero_center_part():
    a, b = _views(predictor=False)
    parts = gr.decompose(preset("residual-dummy"), a, b)
    z_a = normalize(a.z)
    torch.testing.assert_close(parts.extra_center, torch.zeros(M, D, dtype=torch.float64),
                               rtol=0, atol=1e-12)
    torch.testing.assert_close(parts.extra_residual, z_a - z_a.mean(-2, keepdim=True),
                               rtol=0, atol=1e-12)


def test_anchor_gradient_is_the_per_sample_target_for_dot_losses():
    anchor = normalize(_random(M, B, D, seed=12))
    target = _random(M, B, D, seed=13)
    torch.testing.assert_close(gr.anchor_gradient(preset("simsiam"), anchor, target), target,
                               rtol=0, atol=1e-12)


def test_crossing_zeroes_the_cosine():
    o_e = _random(5, D, seed=14)
    o_a = _random(5, D, seed=15)
    eta = gr.crossing(o_e, o_a)
    assert eta.shape == (5,)
    shifted = o_e - eta.unsqueeze(-1) * o_a
    cos = (shifted * o_a).sum(-1) / (shifted.norm(dim=-1) * o_a.norm(dim=-1))
    torch.testing.assert_close(cos, torch.zeros(5, dtype=torch.float64), rtol=0, atol=1e-12)
    # o_e = -0.5 o_A crosses at eta = -0.5 (the paper's de-centering reading, Fig. 5a).
    torch.testing.assert_close(gr.crossing(-0.5 * o_a, o_a), torch.full((5,), -0.5,
                                                                        dtype=torch.float64))


def test_summary_keys_shapes_and_values():
    a, b = _views()
    parts = gr.decompose(preset("simsiam"), a, b)
    summary = parts.summary()
    assert set(summary) == {"basic_norm", "extra_norm", "extra_center_norm",
                            "extra_residual_norm", "anchor_center_norm", "extra_center_cos",
                            "eta"}
    for key, value in summary.items():
        assert value.shape == (M,), key
        assert torch.isfinite(value).all(), key
    o_anchor = normalize(a.p).mean(-2)
    torch.testing.assert_close(summary["eta"], gr.crossing(parts.extra_center, o_anchor),
                               rtol=0, atol=1e-12)
    torch.testing.assert_close(summary["anchor_center_norm"], o_anchor.norm(dim=-1),
                               rtol=0, atol=1e-12)
    torch.testing.assert_close(summary["extra_center_norm"], parts.extra_center.norm(dim=-1),
                               rtol=0, atol=1e-12)
    torch.testing.assert_close(summary["basic_norm"], torch.ones(M, dtype=torch.float64),
                               rtol=0, atol=1e-12)
    cos = torch.nn.functional.cosine_similarity(parts.extra_center, o_anchor, dim=-1)
    torch.testing.assert_close(summary["extra_center_cos"], cos, rtol=0, atol=1e-12)


def test_center_cosine_is_undefined_without_a_center_part():
    """Residual-only surgery has o_e = 0: its angle to o is NaN, not a number from rounding."""
    a, b = _views()
    summary = gr.decompose(preset("simsiam-residual"), a, b).summary()
    assert torch.all(summary["extra_center_norm"] < 1e-8)
    assert torch.isnan(summary["extra_center_cos"]).all()
    assert torch.isfinite(summary["eta"]).all()
