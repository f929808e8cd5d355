"""Tests for collapse.siamese: forward, recipe switching, the EMA target and the EOA target."""

import pytest
import torch

from collapse.layers import MLP
from collapse.losses import ViewOutputs, siamese_loss
from collapse.metrics import correlation_penalty, normalize
from collapse.predictors import BiasPredictor
from collapse.recipe import preset
from collapse.siamese import Siamese

M, B, N_IN, DIM, HIDDEN = 2, 10, 6, 4, 8


def _random(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def _model(recipe, members=M, seed=0):
    gens = [torch.Generator().manual_seed(seed + m) for m in range(members)]
    encoder = MLP(N_IN, HIDDEN, DIM, members, gens)
    return Siamese(encoder, DIM, recipe, HIDDEN, members, gens).double()


def _x(seed=1, members=M):
    return _random(members, B, N_IN, seed=seed)


@pytest.mark.parametrize("name", ["simsiam", "no-predictor", "inverse-predictor", "byol"])
def test_forward_returns_loss_per_member_and_both_views(name):
    recipe = preset(name)
    model = _model(recipe)
    x_a, x_b = _x(1), _x(2)
    loss, a, b = model(x_a, x_b)
    assert loss.shape == (M,)
    assert isinstance(a, ViewOutputs)
    assert isinstance(b, ViewOutputs)
    torch.testing.assert_close(a.z, model.encoder(x_a), rtol=0, atol=0)
    torch.testing.assert_close(b.z, model.encoder(x_b), rtol=0, atol=0)
    if recipe.predictor == "none":
        assert a.p is None
        assert model.predictor is None
    else:
        torch.testing.assert_close(a.p, model.predictor(a.z), rtol=0, atol=0)
    if recipe.placement == "inverse":
        torch.testing.assert_close(a.inverse, model.inverse(normalize(a.p).detach()),
                                   rtol=0, atol=0)
    else:
        assert a.inverse is None
        assert model.inverse is None
    torch.testing.assert_close(loss, siamese_loss(recipe, a, b), rtol=0, atol=0)


def test_plain_batch_with_one_member():
    model = _model(preset("simsiam"), members=1)
    loss, a, _ = model(_random(B, N_IN, seed=1), _random(B, N_IN, seed=2))
    assert loss.shape == ()
    assert a.z.shape == (B, DIM)


def test_heads_follow_the_recipe():
    assert isinstance(_model(preset("bias-predictor")).predictor, BiasPredictor)
    assert _model(preset("inverse-predictor")).inverse is not None
    assert _model(preset("simsiam")).target_encoder is None
    byol = _model(preset("byol"))
    assert byol.target_encoder is not None
    assert all(not p.requires_grad for p in byol.target_encoder.parameters())
    for t, o in zip(byol.target_encoder.parameters(), byol.encoder.parameters(), strict=True):
        assert torch.equal(t, o)
        assert t is not o


@pytest.mark.parametrize(
    ("start", "other", "field"),
    [
        ("simsiam", "no-predictor", "predictor"),
        ("simsiam", "bias-predictor", "predictor"),
        ("simsiam", "symmetric-predictor", "placement"),
        ("simsiam", "inverse-predictor", "placement"),
        ("simsiam", "byol", "ema"),
        ("byol", "simsiam", "ema"),
        ("no-predictor", "simsiam", "predictor"),
    ],
)
def test_set_recipe_refuses_different_modules(start, other, field):
    model = _model(preset(start))
    with pytest.raises(ValueError, match=field):
        model.set_recipe(preset(other))
    assert model.recipe == preset(start)


@pytest.mark.parametrize(
    ("start", "other"),
    [("simsiam", "simsiam-center"), ("simsiam", "no-stop-gradient"),
     ("no-predictor", "decorrelation-only"), ("no-predictor", "triplet"),
     ("no-predictor", "center-dummy"), ("byol", "byol")],
)
def test_set_recipe_accepts_a_compatible_recipe(start, other):
    model = _model(preset(start))
    model.set_recipe(preset(other))
    assert model.recipe == preset(other)
    x_a, x_b = _x(1), _x(2)
    loss, a, b = model(x_a, x_b)
    torch.testing.assert_close(loss, siamese_loss(preset(other), a, b), rtol=0, atol=0)


def test_set_recipe_switches_to_decorrelation_only():
    """Fig. 5b: collapse with the naive loss, then train with the regulariser alone."""
    model = _model(preset("no-predictor"))
    model.set_recipe(preset("decorrelation-only"))
    loss, a, b = model(_x(1), _x(2))
    expected = 0.5 * (correlation_penalty(a.z) + correlation_penalty(b.z))
    torch.testing.assert_close(loss, expected, rtol=0, atol=1e-12)


def test_update_target_moves_by_exactly_one_minus_m():
    recipe = preset("byol")
    model = _model(recipe)
    with torch.no_grad():  # let the online encoder move away from the target
        for i, p in enumerate(model.encoder.parameters()):
            p.add_(_random(*p.shape, seed=20 + i))
    online = [p.detach().clone() for p in model.encoder.parameters()]
    before = [t.detach().clone() for t in model.target_encoder.parameters()]
    model.update_target()
    m = recipe.ema
    for o, old, new in zip(online, before, model.target_encoder.parameters(), strict=True):
        assert not torch.equal(o, old)
        torch.testing.assert_close(new - old, (1 - m) * (o - old), rtol=0, atol=1e-12)
    # The online encoder itself is untouched.
    for o, p in zip(online, model.encoder.parameters(), strict=True):
        assert torch.equal(o, p)


def test_byol_target_comes_from_the_ema_encoder_without_gradient():
    model = _model(preset("byol"))
    with torch.no_grad():
        for p in model.target_encoder.parameters():
            p.mul_(0.5)
    x_a, x_b = _x(1), _x(2)
    _, a, b = model(x_a, x_b)
    torch.testing.assert_close(a.z_target, model.target_encoder(x_a), rtol=0, atol=0)
    torch.testing.assert_close(b.z_target, model.target_encoder(x_b), rtol=0, atol=0)
    assert not a.z_target.requires_grad
    assert not torch.allclose(a.z_target, a.z)


def test_update_target_is_a_no_op_without_ema():
    model = _model(preset("simsiam"))
    before = [p.detach().clone() for p in model.parameters()]
    model.update_target()
    for old, p in zip(before, model.parameters(), strict=True):
        assert torch.equal(old, p)


def test_eoa_target_needs_views():
    model = _model(preset("eoa-target"))
    with pytest.raises(ValueError, match="eoa"):
        model(_x(1), _x(2))


@pytest.mark.parametrize("k", [2, 5])
def test_eoa_target_is_the_mean_of_normalised_encoder_outputs(k):
    model = _model(preset("eoa-target"))
    views = [_x(10 + i) for i in range(k)]
    loss, a, b = model(_x(1), _x(2), views)
    expected = torch.stack([normalize(model.encoder(v)) for v in views]).mean(0)
    torch.testing.assert_close(a.z_target, expected, rtol=0, atol=1e-12)
    torch.testing.assert_close(b.z_target, expected, rtol=0, atol=1e-12)
    assert not a.z_target.requires_grad
    # The loss pulls each view's Z towards the (normalised) EOA target.
    target = normalize(expected)
    z_a, z_b = normalize(a.z), normalize(b.z)
    manual = -0.5 * ((z_a * target).sum(-1).mean(-1) + (z_b * target).sum(-1).mean(-1))
    torch.testing.assert_close(loss, manual, rtol=0, atol=1e-12)
