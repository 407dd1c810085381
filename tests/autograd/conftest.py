"""With EMBER_TEST_DEVICE=cuda, tensors the autograd tests create directly (``lib.ones(3)``)
land on the GPU too, like the leaves made by tests/autograd/_helpers.py."""

import pytest

import ember
from tests.oracle import DEVICE


@pytest.fixture(autouse=True)
def _default_device():
    if DEVICE == "cpu":
        yield
        return
    prev = ember.get_default_device()
    ember.set_default_device(DEVICE)
    try:
        yield
    finally:
        ember.set_default_device(prev)
