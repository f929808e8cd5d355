"""Tests for collapse.losses: every loss of the paper checked against its formula with autograd.

Comparisons of autograd with closed forms run in float64.
"""

import pytest
import torch
import torch.nn.functional as F

from collapse import losses as ls
from collapse.layers import MLP
from collapse.metrics import correlation_penalty, normalize
from collapse.recipe import Recipe, preset
from collapse.siamese import Siamese

DIM, N_IN, HIDDEN, BATCH = 4, 6, 8, 10


def _random(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def _model(recipe, members=1, seed=0):
    gens = [torch.Generator().manual_seed(seed + m) for m in range(members)]
    encoder = MLP(N_IN, HIDDEN, DIM, members, gens)
    return Siamese(encoder, DIM, recipe, HIDDEN, members, gens).double()


def _inputs(members=1, seed=1):
    x = _random(2, members, BATCH, N_IN, seed=seed)
    return x[0], x[1]


def _trainable(model):
    return {n: p for n, p in model.named_parameters() if p.requires_grad}


def _grads(loss, params):
    """Gradients of ``loss`` for each named parameter (zeros where it does not depend on it)."""
    names = list(params)
    grads = torch.autograd.grad(loss, [params[n] for n in names], retain_graph=True,
                                allow_unused=True)
    return {n: torch.zeros_like(params[n]) if g is None else g
            for n, g in zip(names, grads, strict=True)}


def _assert_grads_equal(g1, g2, atol):
    assert g1.keys() == g2.keys()
    for name in g1:
        torch.testing.assert_close(g1[name], g2[name], rtol=0, atol=atol, msg=name)


def _nonzero(grads):
    return all(bool(g.abs().sum() > 0) for g in grads.values())


def _views(members=2, batch=BATCH, d=DIM, predictor=True, seed=0):
    """Two ViewOutputs with leaf tensors (z and an independent p)."""
    t = _random(4, members, batch, d, seed=seed)
    t[0] += 0.7  # give Z a non-zero center
    t[1] += 0.7
    z_a, z_b, p_a, p_b = (v.clone().requires_grad_(True) for v in t)
    if not predictor:
        return ls.ViewOutputs(z_a), ls.ViewOutputs(z_b)
    return ls.ViewOutputs(z_a, p_a), ls.ViewOutputs(z_b, p_b)


def _dot(u, v):
    return (u * v).sum(-1).mean(-1)


# (1) SimSiam = surgery with X = G_e ------------------------------------------------------------


def test_simsiam_loss_and_full_surgery_give_the_same_parameter_gradients():
    model = _model(preset("simsiam"))
    params = _trainable(model)
    x_a, x_b = _inputs()
    a, b = model.view(x_a), model.view(x_b)
    z_a, z_b, p_a, p_b = normalize(a.z), normalize(b.z), normalize(a.p), normalize(b.p)

    explicit = -0.5 * (_dot(p_a, z_b.detach()) + _dot(p_b, z_a.detach()))
    t_b = (p_b + ls.keep_part(z_b - p_b, "full")).detach()  # basic + G_e
    t_a = (p_a + ls.keep_part(z_a - p_a, "full")).detach()
    surgery = -0.5 * (_dot(p_a, t_b) + _dot(p_b, t_a))
    package = ls.siamese_loss(model.recipe, a, b)

    g_explicit = _grads(explicit.sum(), params)
    assert _nonzero(g_explicit)
    assert any(n.startswith("encoder.") for n in g_explicit)
    assert any(n.startswith("predictor.") for n in g_explicit)
    _assert_grads_equal(g_explicit, _grads(surgery.sum(), params), atol=1e-10)
    _assert_grads_equal(g_explicit, _grads(package.sum(), params), atol=1e-10)
    torch.testing.assert_close(package, explicit, rtol=0, atol=1e-12)


@pytest.mark.parametrize("part", ["none", "center", "residual"])
def test_simsiam_surgery_target_is_basic_plus_kept_part(part):
    recipe = preset({"none": "simsiam-no-extra", "center": "simsiam-center",
                     "residual": "simsiam-residual"}[part])
    a, b = _views()
    anchor, basic, target = ls.pair(recipe, a, b)
    p_b, z_b = normalize(b.p), normalize(b.z)
    torch.testing.assert_close(anchor, normalize(a.p), rtol=0, atol=0)
    torch.testing.assert_close(basic, p_b, rtol=0, atol=0)
    torch.testing.assert_close(target, p_b + ls.keep_part(z_b - p_b, part), rtol=0, atol=1e-12)
    assert not target.requires_grad


def test_surgery_gradients_are_linear_in_the_kept_part():
    """grad(X = o_e) + grad(X = r_e) = grad(X = 0) + grad(X = G_e) on the same weights."""
    x_a, x_b = _inputs()
    base = _model(preset("simsiam"))
    grads = {}
    for name in ("simsiam", "simsiam-no-extra", "simsiam-center", "simsiam-residual"):
        model = _model(preset(name))
        model.load_state_dict(base.state_dict())
        params = _trainable(model)
        grads[name] = _grads(model(x_a, x_b)[0].sum(), params)
    for n in grads["simsiam"]:
        torch.testing.assert_close(
            grads["simsiam-center"][n] + grads["simsiam-residual"][n],
            grads["simsiam-no-extra"][n] + grads["simsiam"][n], rtol=0, atol=1e-10, msg=n)
    # And the kept part matters: o_e alone is not the full G_e.
    assert not torch.allclose(grads["simsiam-center"]["encoder.0.weight"],
                              grads["simsiam"]["encoder.0.weight"])


# (2) X = 0 is the symmetric predictor ---------------------------------------------------------


def test_no_extra_gradient_equals_symmetric_predictor():
    x_a, x_b = _inputs()
    no_extra = _model(preset("simsiam-no-extra"))
    symmetric = _model(preset("symmetric-predictor"), seed=5)
    symmetric.load_state_dict(no_extra.state_dict())
    loss_n = no_extra(x_a, x_b)[0]
    loss_s = symmetric(x_a, x_b)[0]
    torch.testing.assert_close(loss_n, loss_s, rtol=0, atol=1e-12)
    g_n = _grads(loss_n.sum(), _trainable(no_extra))
    g_s = _grads(loss_s.sum(), _trainable(symmetric))
    assert _nonzero(g_n)
    _assert_grads_equal(g_n, g_s, atol=1e-12)
    # ... and differs from SimSiam's, which has the extra gradient.
    simsiam = _model(preset("simsiam"))
    simsiam.load_state_dict(no_extra.state_dict())
    g_simsiam = _grads(simsiam(x_a, x_b)[0].sum(), _trainable(simsiam))
    assert not torch.allclose(g_simsiam["encoder.0.weight"], g_n["encoder.0.weight"])


# (3) keep_part --------------------------------------------------------------------------------


def test_keep_part_center_and_residual():
    extra = _random(2, 7, 5) + 0.3
    full = ls.keep_part(extra, "full")
    center = ls.keep_part(extra, "center")
    res = ls.keep_part(extra, "residual")
    torch.testing.assert_close(full, extra, rtol=0, atol=0)
    torch.testing.assert_close(center, extra.mean(-2, keepdim=True).expand(2, 7, 5),
                               rtol=0, atol=1e-15)
    assert center.shape == extra.shape
    torch.testing.assert_close(res.mean(-2), torch.zeros(2, 5, dtype=torch.float64),
                               rtol=0, atol=1e-15)
    torch.testing.assert_close(center + res, full, rtol=0, atol=1e-15)
    torch.testing.assert_close(ls.keep_part(extra, "none"), torch.zeros_like(extra),
                               rtol=0, atol=0)
    with pytest.raises(ValueError, match="extra_gradient"):
        ls.keep_part(extra, "nope")


# (4) triplet ----------------------------------------------------------------------------------


def test_triplet_target_subtracts_the_rolled_batch():
    a, b = _views(predictor=False)
    anchor, basic, target = ls.pair(preset("triplet"), a, b)
    z_a, z_b = normalize(a.z), normalize(b.z)
    torch.testing.assert_close(anchor, z_a, rtol=0, atol=0)
    torch.testing.assert_close(basic, z_b, rtol=0, atol=0)
    torch.testing.assert_close(ls.negatives(z_b), z_b.roll(1, dims=-2), rtol=0, atol=0)
    for i in range(BATCH):  # sample i's negative is sample i - 1 of the same member
        torch.testing.assert_close(target[:, i], z_b[:, i] - z_b[:, i - 1], rtol=0, atol=1e-15)
    assert not target.requires_grad


@pytest.mark.parametrize("part", ["center", "residual"])
def test_triplet_surgery_keeps_part_of_minus_z_n(part):
    a, b = _views(predictor=False)
    _, _, target = ls.pair(preset(f"triplet-{part}"), a, b)
    z_b = normalize(b.z)
    expected = z_b + ls.keep_part(-z_b.roll(1, dims=-2), part)
    torch.testing.assert_close(target, expected, rtol=0, atol=1e-15)


# (5) the dummy losses -------------------------------------------------------------------------


def test_center_dummy_target_is_the_center_of_the_anchor_view():
    a, b = _views(predictor=False)
    _, other = _views(predictor=False, seed=9)
    anchor, basic, target = ls.pair(preset("center-dummy"), a, b)
    z_a = normalize(a.z)
    torch.testing.assert_close(anchor, z_a, rtol=0, atol=0)
    torch.testing.assert_close(basic, torch.zeros_like(z_a), rtol=0, atol=0)
    torch.testing.assert_close(target, z_a.mean(-2, keepdim=True).expand_as(z_a),
                               rtol=0, atol=1e-15)
    assert not target.requires_grad
    # The other view plays no part.
    torch.testing.assert_close(ls.pair(preset("center-dummy"), a, other)[2], target,
                               rtol=0, atol=0)


def test_residual_dummy_target_is_the_residual_of_the_anchor_view():
    a, b = _views(predictor=False)
    _, other = _views(predictor=False, seed=9)
    anchor, basic, target = ls.pair(preset("residual-dummy"), a, b)
    z_a = normalize(a.z)
    torch.testing.assert_close(anchor, z_a, rtol=0, atol=0)
    torch.testing.assert_close(basic, torch.zeros_like(z_a), rtol=0, atol=0)
    torch.testing.assert_close(target, z_a - z_a.mean(-2, keepdim=True), rtol=0, atol=1e-15)
    assert not target.requires_grad
    torch.testing.assert_close(ls.pair(preset("residual-dummy"), a, other)[2], target,
                               rtol=0, atol=0)


@pytest.mark.parametrize("name", ["center-dummy", "residual-dummy"])
def test_dummy_losses_symmetrise_over_the_views(name):
    a, b = _views(predictor=False)
    z_a, z_b = normalize(a.z), normalize(b.z)
    if name == "center-dummy":
        t_a, t_b = z_a.mean(-2, keepdim=True), z_b.mean(-2, keepdim=True)
    else:
        t_a, t_b = z_a - z_a.mean(-2, keepdim=True), z_b - z_b.mean(-2, keepdim=True)
    expected = -0.5 * (_dot(z_a, t_a.detach()) + _dot(z_b, t_b.detach()))
    torch.testing.assert_close(ls.siamese_loss(preset(name), a, b), expected, rtol=0, atol=1e-12)


# (6) InfoNCE ----------------------------------------------------------------------------------


@pytest.mark.parametrize("tau", [0.05, 0.2, 1.0, 5.0])
def test_info_nce_equals_cross_entropy_on_the_logits(tau):
    anchor = normalize(_random(3, BATCH, DIM, seed=1))
    candidates = normalize(_random(3, BATCH, DIM, seed=2))
    loss = ls.info_nce(anchor, candidates, tau)
    assert loss.shape == (3,)
    labels = torch.arange(BATCH)
    expected = torch.stack([F.cross_entropy(anchor[m] @ candidates[m].T / tau, labels)
                            for m in range(3)])
    torch.testing.assert_close(loss, expected, rtol=0, atol=1e-12)


def test_infonce_recipe_uses_info_nce_with_its_tau():
    a, b = _views(predictor=False)
    recipe = preset("infonce").replace(tau=0.3)
    z_a, z_b = normalize(a.z), normalize(b.z)
    expected = 0.5 * (ls.info_nce(z_a, z_b.detach(), 0.3) + ls.info_nce(z_b, z_a.detach(), 0.3))
    torch.testing.assert_close(ls.siamese_loss(recipe, a, b), expected, rtol=0, atol=1e-12)
    assert not torch.allclose(ls.siamese_loss(preset("infonce"), a, b), expected)


# (7) stop-gradient ----------------------------------------------------------------------------


def test_stop_gradient_blocks_the_target_branch():
    """With p independent of z, z feeds only the targets (SimSiam): sg decides its gradient."""
    a, b = _views()
    loss = ls.siamese_loss(preset("simsiam"), a, b).sum()
    g_za, g_zb, g_pa, g_pb = torch.autograd.grad(loss, [a.z, b.z, a.p, b.p], allow_unused=True)
    assert g_za is None
    assert g_zb is None
    assert g_pa.abs().sum() > 0
    assert g_pb.abs().sum() > 0

    # One direction a -> b: nothing reaches b's target branch.
    anchor, _, target = ls.pair(preset("simsiam"), a, b)
    direction = ls.directional_loss(preset("simsiam"), anchor, target).sum()
    assert torch.autograd.grad(direction, [b.z], allow_unused=True) == (None,)


def test_without_stop_gradient_the_target_branch_gets_a_gradient():
    a, b = _views()
    recipe = preset("no-stop-gradient")
    anchor, _, target = ls.pair(recipe, a, b)
    assert target.requires_grad
    direction = ls.directional_loss(recipe, anchor, target).sum()
    (g_zb,) = torch.autograd.grad(direction, [b.z])
    assert g_zb.abs().sum() > 0
    # Its value: d/dz_b of -mean_i P_a . Z_b.
    z_b = b.z.detach().requires_grad_(True)
    expected = torch.autograd.grad(-_dot(normalize(a.p).detach(), normalize(z_b)).sum(), z_b)[0]
    torch.testing.assert_close(g_zb, expected, rtol=0, atol=1e-12)


def test_stop_gradient_in_a_model():
    x_a, x_b = _inputs()
    with_sg = _model(preset("simsiam"))
    without = _model(preset("no-stop-gradient"))
    without.load_state_dict(with_sg.state_dict())
    loss_sg, loss_free = with_sg(x_a, x_b)[0], without(x_a, x_b)[0]
    torch.testing.assert_close(loss_sg, loss_free, rtol=0, atol=0)  # same value ...
    g_sg = _grads(loss_sg.sum(), _trainable(with_sg))
    g_free = _grads(loss_free.sum(), _trainable(without))
    # ... the predictor's gradient is the same, the encoder's is not.
    for n in g_sg:
        if n.startswith("predictor."):
            torch.testing.assert_close(g_sg[n], g_free[n], rtol=0, atol=1e-12, msg=n)
    assert not torch.allclose(g_sg["encoder.0.weight"], g_free["encoder.0.weight"])


# (8) per-member losses ------------------------------------------------------------------------


def _member_rows(tensor, members):
    return tensor.reshape(members, -1)


@pytest.mark.parametrize("name", ["simsiam", "infonce", "triplet", "decorrelation-only",
                                  "bias-predictor", "directpred", "inverse-predictor", "byol",
                                  "center-dummy", "simsiam-center", "mirror"])
def test_loss_is_per_member_and_members_are_independent(name):
    members = 2
    model = _model(preset(name), members=members)
    x_a, x_b = _inputs(members)
    loss, a, b = model(x_a, x_b)
    assert loss.shape == (members,)
    params = _trainable(model)
    grads = _grads(loss[0], params)
    own = 0.0
    for n, g in grads.items():
        rows = _member_rows(g, members)
        assert torch.count_nonzero(rows[1]) == 0, n  # member 1 untouched by member 0's loss
        own += float(rows[0].abs().sum())
    assert own > 0

    # Member 1 of the stack equals a model of its own built from member 1's generator.
    alone = _model(preset(name), members=1, seed=1)
    torch.testing.assert_close(alone(x_a[1:], x_b[1:])[0], loss[1:], rtol=0, atol=1e-12)


# (9) de-correlation ---------------------------------------------------------------------------


@pytest.mark.parametrize("weight", [0.3, 2.0])
def test_decorrelation_adds_weighted_correlation_penalty(weight):
    a, b = _views()
    base = ls.siamese_loss(preset("simsiam"), a, b)
    with_penalty = ls.siamese_loss(preset("simsiam").replace(decorrelation=weight), a, b)
    penalty = 0.5 * (correlation_penalty(a.z) + correlation_penalty(b.z))
    assert bool((penalty > 0).all())
    torch.testing.assert_close(with_penalty - base, weight * penalty, rtol=0, atol=1e-12)


def test_decorrelation_only_is_the_penalty_alone():
    a, b = _views(predictor=False)
    recipe = preset("decorrelation-only")
    penalty = 0.5 * (correlation_penalty(a.z) + correlation_penalty(b.z))
    torch.testing.assert_close(ls.siamese_loss(recipe, a, b), recipe.decorrelation * penalty,
                               rtol=0, atol=1e-12)
    doubled = Recipe(predictor="none", objective="none", decorrelation=2 * recipe.decorrelation)
    torch.testing.assert_close(ls.siamese_loss(doubled, a, b), 2 * recipe.decorrelation * penalty,
                               rtol=0, atol=1e-12)


# (10) the inverse head ------------------------------------------------------------------------


def test_inverse_head_learns_only_from_its_fit_term():
    recipe = preset("inverse-predictor")
    model = _model(recipe)
    params = _trainable(model)
    x_a, x_b = _inputs()
    a, b = model.view(x_a), model.view(x_b)
    online = sum(0.5 * ls.directional_loss(recipe, *ls.pair(recipe, x, y)[::2])
                 for x, y in ((a, b), (b, a)))
    fit = 0.5 * (ls.inverse_fit(a) + ls.inverse_fit(b))
    torch.testing.assert_close(ls.siamese_loss(recipe, a, b), online + fit, rtol=0, atol=1e-12)

    g_online = _grads(online.sum(), params)
    g_fit = _grads(fit.sum(), params)
    for n in params:
        if n.startswith("inverse."):
            assert torch.count_nonzero(g_online[n]) == 0, n
            assert g_fit[n].abs().sum() > 0, n
        else:  # g's input is sg(P): the fit term trains g alone
            assert torch.count_nonzero(g_fit[n]) == 0, n
    assert g_online["encoder.0.weight"].abs().sum() > 0


def test_inverse_target_and_fit_formulas():
    recipe = preset("inverse-predictor")
    a, b = _views()
    a.inverse = _random(2, BATCH, DIM, seed=3).requires_grad_(True)
    b.inverse = _random(2, BATCH, DIM, seed=4).requires_grad_(True)
    anchor, basic, target = ls.pair(recipe, a, b)
    torch.testing.assert_close(anchor, normalize(a.p), rtol=0, atol=0)
    torch.testing.assert_close(target, normalize(b.inverse), rtol=0, atol=0)
    assert not target.requires_grad
    torch.testing.assert_close(ls.inverse_fit(a), -_dot(normalize(a.inverse), normalize(a.z)),
                               rtol=0, atol=1e-12)


# targets of the other placements --------------------------------------------------------------


def test_placement_targets():
    a, b = _views()
    z_a, z_b, p_a, p_b = normalize(a.z), normalize(b.z), normalize(a.p), normalize(b.p)
    cases = {
        "simsiam": (p_a, p_b, z_b),
        "symmetric-predictor": (p_a, p_b, p_b),
        "mirror": (z_a, z_b, p_b),
        "no-predictor": (z_a, z_b, z_b),
    }
    for name, expected in cases.items():
        a_, b_ = (ls.ViewOutputs(a.z), ls.ViewOutputs(b.z)) if name == "no-predictor" else (a, b)
        for got, want in zip(ls.pair(preset(name), a_, b_), expected, strict=True):
            torch.testing.assert_close(got, want, rtol=0, atol=0, msg=name)


def test_target_branch_representation_replaces_z_b():
    """BYOL / EOA: the target is the (normalised) z_target of the other view."""
    a, b = _views()
    b.z_target = _random(2, BATCH, DIM, seed=8)
    anchor, basic, target = ls.pair(preset("byol"), a, b)
    torch.testing.assert_close(target, normalize(b.z_target), rtol=0, atol=0)
    torch.testing.assert_close(basic, normalize(b.p), rtol=0, atol=0)
