import os
import pathlib
import zlib

import numpy as np
import pytest

import ember
from tests import oracle

DATA_ROOT = pathlib.Path(os.environ.get(
    "EMBER_DATA", pathlib.Path(__file__).resolve().parents[2] / "shared" / "data"))


def pytest_collection_modifyitems(config, items):
    """``EMBER_TEST_DEVICE=cuda`` on a machine where ember cannot use a GPU (no CuPy, no driver,
    no device) skips every test with one clear reason instead of failing each of them."""
    if oracle.DEVICE == "cpu":
        return
    try:
        dev = ember.device(oracle.DEVICE)
    except RuntimeError as e:
        raise pytest.UsageError(f"EMBER_TEST_DEVICE={oracle.DEVICE!r}: {e}") from None
    if dev.type != "cuda":
        raise pytest.UsageError(f"EMBER_TEST_DEVICE={oracle.DEVICE!r}: expected 'cpu' or "
                                "'cuda[:index]'")
    count = ember.cuda.device_count()
    if count == 0 or (dev.index or 0) >= count:
        why = "ember found no CuPy installation with a usable GPU" if count == 0 else \
            f"there are only {count} CUDA devices"
        skip = pytest.mark.skip(reason=f"EMBER_TEST_DEVICE={oracle.DEVICE} but {why} "
                                       "(pip install ember[cuda] on a machine with a GPU)")
        for item in items:
            item.add_marker(skip)


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
