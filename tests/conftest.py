import os
import pathlib
import zlib

import numpy as np
import pytest

import ember
from tests import oracle

DATA_ROOT = pathlib.Path(os.environ.get(
    "EMBER_DATA", pathlib.Path(__file__).resolve().parents[2] / "shared" / "data"))


@pytest.fixture(autouse=True)
def _seed_and_defaults(request):
    """Every test draws the same inputs however tests are ordered or split across workers:
    reseed ember, NumPy, the oracle's RNG and the test module's own ``RNG`` from the test id."""
    seed = zlib.crc32(request.node.nodeid.encode())
    ember.manual_seed(seed)
    np.random.seed(seed)
    oracle.RNG = np.random.default_rng(seed)
    mod = request.module
    if isinstance(getattr(mod, "RNG", None), np.random.Generator):
        mod.RNG = np.random.default_rng(seed)
    yield
    ember.set_default_dtype(ember.float32)


@pytest.fixture
def data_root():
    if not (DATA_ROOT / "FashionMNIST" / "raw").is_dir():
        pytest.skip(f"shared data not found at {DATA_ROOT}")
    return DATA_ROOT
