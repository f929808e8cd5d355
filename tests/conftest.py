"""Fixtures shared across the test tree."""

import pytest
import torch


@pytest.fixture
def one_thread():
    """Train on one torch thread, as the toy and the app do, and restore the count after."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
