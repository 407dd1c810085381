import os
import pathlib

import numpy as np
import pytest

import ember

DATA_ROOT = pathlib.Path(os.environ.get(
    "EMBER_DATA", pathlib.Path(__file__).resolve().parents[2] / "shared" / "data"))


@pytest.fixture(autouse=True)
def _seed_and_defaults():
    ember.manual_seed(0) if hasattr(ember, "manual_seed") else None
    np.random.seed(0)
    yield
    ember.set_default_dtype(ember.float32)


@pytest.fixture
def data_root():
    if not (DATA_ROOT / "FashionMNIST" / "raw").is_dir():
        pytest.skip(f"shared data not found at {DATA_ROOT}")
    return DATA_ROOT
