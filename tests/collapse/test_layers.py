"""Tests for collapse.layers: stacked members equal separate models, BatchNorm, input shapes."""

import pytest
import torch

from collapse.layers import MLP, BatchNorm, Linear

SEEDS = (3, 4, 5)


def _gens(seeds):
    return [torch.Generator().manual_seed(s) for s in seeds]


def _random(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


BUILDERS = {
    "linear": lambda m, g: Linear(5, 7, m, generators=g),
    "linear-no-bias": lambda m, g: Linear(5, 7, m, bias=False, generators=g),
    "mlp": lambda m, g: MLP(5, 9, 3, m, g),
}


@pytest.mark.parametrize("kind", BUILDERS)
def test_stacked_members_equal_separate_runs(kind):
    build = BUILDERS[kind]
    members = len(SEEDS)
    stacked = build(members, _gens(SEEDS)).double()
    singles = [build(1, _gens((s,))).double() for s in SEEDS]

    # Parameters: member i of the stack is the single model built from generator i.
    names = [n for n, _ in stacked.named_parameters()]
    assert names == [n for n, _ in singles[0].named_parameters()]
    for i, single in enumerate(singles):
        for (name, p), (_, q) in zip(stacked.named_parameters(), single.named_parameters(),
                                     strict=True):
            assert torch.equal(p.detach().reshape(members, -1)[i], q.detach().reshape(-1)), name
    # Members must differ from one another (else the check above proves little).
    first = next(stacked.parameters()).detach()
    assert not torch.equal(first[0], first[1])

    # Forward and backward: member i of the stacked run equals a separate run.
    x = _random(members, 10, 5)
    weights = _random(members, 10, stacked(x).shape[-1], seed=1)
    y = stacked(x)
    (y * weights).sum().backward()
    for i, single in enumerate(singles):
        y_i = single(x[i])
        torch.testing.assert_close(y[i], y_i, rtol=0, atol=1e-12)
        (y_i * weights[i]).sum().backward()
        for (name, p), (_, q) in zip(stacked.named_parameters(), single.named_parameters(),
                                     strict=True):
            torch.testing.assert_close(p.grad.reshape(members, -1)[i], q.grad.reshape(-1),
                                       rtol=0, atol=1e-12, msg=name)


def test_linear_formula():
    layer = Linear(4, 3, members=2, generators=_gens((0, 1))).double()
    x = _random(2, 6, 4)
    expected = torch.stack([x[m] @ layer.weight[m] + layer.bias[m] for m in range(2)])
    torch.testing.assert_close(layer(x), expected, rtol=0, atol=1e-12)
    assert layer.weight.shape == (2, 4, 3)
    bound = 1 / 4**0.5
    assert layer.weight.abs().max() <= bound
    assert layer.bias.abs().max() <= bound


def test_same_generators_give_same_weights_and_different_seeds_do_not():
    a = Linear(4, 3, generators=_gens((0,)))
    b = Linear(4, 3, generators=_gens((0,)))
    c = Linear(4, 3, generators=_gens((1,)))
    assert torch.equal(a.weight, b.weight)
    assert not torch.equal(a.weight, c.weight)


def test_batchnorm_normalises_each_member_and_feature_over_the_batch():
    members, batch, features = 3, 16, 4
    scale = _random(members, 1, features, seed=1).abs() * 5 + 0.5
    shift = _random(members, 1, features, seed=2) * 10
    x = _random(members, batch, features) * scale + shift
    # A tiny eps (0 is refused by torch) so that the variance is 1 to double precision.
    y = BatchNorm(features, members, eps=1e-14).double()(x)
    torch.testing.assert_close(y.mean(1), torch.zeros(members, features, dtype=torch.float64),
                               rtol=0, atol=1e-12)
    torch.testing.assert_close(y.var(1, correction=0),
                               torch.ones(members, features, dtype=torch.float64),
                               rtol=0, atol=1e-12)


def test_batchnorm_affine_parameters_belong_to_their_member_and_feature():
    members, batch, features, eps = 2, 8, 3, 1e-5
    bn = BatchNorm(features, members, eps=eps).double()
    with torch.no_grad():
        bn.weight.copy_(_random(members * features, seed=3))
        bn.bias.copy_(_random(members * features, seed=4))
    x = _random(members, batch, features) * 3 + 1
    mean = x.mean(1, keepdim=True)
    var = x.var(1, correction=0, keepdim=True)
    x_hat = (x - mean) / torch.sqrt(var + eps)
    weight = bn.weight.reshape(members, 1, features)
    bias = bn.bias.reshape(members, 1, features)
    torch.testing.assert_close(bn(x), x_hat * weight + bias, rtol=0, atol=1e-12)


def test_batchnorm_uses_batch_statistics_in_eval_mode_too():
    bn = BatchNorm(3).double()
    x = _random(8, 3) * 4 + 2
    y_train = bn(x)
    bn.eval()
    torch.testing.assert_close(bn(x), y_train, rtol=0, atol=0)


@pytest.mark.parametrize(
    "module",
    [Linear(4, 3), Linear(4, 3, bias=False), BatchNorm(4), MLP(4, 6, 3)],
    ids=["linear", "linear-no-bias", "batchnorm", "mlp"],
)
def test_plain_batch_input_with_one_member(module):
    module = module.double()
    x = _random(6, 4)
    y = module(x)
    assert y.shape[:-1] == (6,)
    torch.testing.assert_close(y, module(x.unsqueeze(0))[0], rtol=0, atol=0)


@pytest.mark.parametrize(
    ("members", "shape"),
    [(2, (6, 4)), (2, (3, 6, 4)), (1, (2, 6, 4)), (1, (4,)), (1, (1, 1, 6, 4))],
)
@pytest.mark.parametrize("kind", ["linear", "batchnorm", "mlp"])
def test_bad_input_shape_raises(members, shape, kind):
    module = {"linear": lambda: Linear(4, 3, members), "batchnorm": lambda: BatchNorm(4, members),
              "mlp": lambda: MLP(4, 5, 3, members)}[kind]()
    with pytest.raises(ValueError, match="expected input of shape"):
        module(torch.zeros(shape))
