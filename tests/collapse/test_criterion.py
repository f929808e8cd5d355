"""Tests for collapse.criterion: the collapsed / dimensional / healthy thresholds."""

import pytest

from collapse import criterion as cr

DIMS = (16, 64, 2048)


@pytest.mark.parametrize("dim", DIMS)
def test_low_std_is_collapsed_whatever_the_rank(dim):
    low = cr.COLLAPSED_STD_SCALED * 0.99
    assert cr.collapse_state(low, float(dim), dim) == "collapsed"
    assert cr.collapse_state(low, 1.0, dim) == "collapsed"  # collapsed wins over dimensional
    assert cr.collapse_state(0.0, float(dim), dim) == "collapsed"


@pytest.mark.parametrize("dim", DIMS)
def test_spread_but_low_rank_is_dimensional(dim):
    rank = cr.DIMENSIONAL_RANK_FRACTION * dim
    assert cr.collapse_state(cr.COLLAPSED_STD_SCALED, rank * 0.99, dim) == "dimensional"
    assert cr.collapse_state(1.0, 1.0, dim) == "dimensional"


@pytest.mark.parametrize("dim", DIMS)
def test_spread_and_full_rank_is_healthy(dim):
    rank = cr.DIMENSIONAL_RANK_FRACTION * dim
    assert cr.collapse_state(1.0, float(dim), dim) == "healthy"
    # Both thresholds are strict: exactly at them is not collapsed.
    assert cr.collapse_state(cr.COLLAPSED_STD_SCALED, rank, dim) == "healthy"


def test_thresholds_are_read_from_the_module_constants(monkeypatch):
    std, rank, dim = 0.5, 40.0, 64
    assert cr.collapse_state(std, rank, dim) == "healthy"
    monkeypatch.setattr(cr, "COLLAPSED_STD_SCALED", 0.6)
    assert cr.collapse_state(std, rank, dim) == "collapsed"
    monkeypatch.setattr(cr, "COLLAPSED_STD_SCALED", 0.4)
    monkeypatch.setattr(cr, "DIMENSIONAL_RANK_FRACTION", 0.75)
    assert cr.collapse_state(std, rank, dim) == "dimensional"


def test_thresholds_are_sane():
    assert 0 < cr.COLLAPSED_STD_SCALED < 1  # a healthy isotropic Z has std * sqrt(d) ~ 1
    assert 0 < cr.DIMENSIONAL_RANK_FRACTION < 1
