"""ember._malloc: glibc keeps freed activations for reuse instead of page-faulting them in again."""

import os
import platform
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc",
    reason="the allocator settings are glibc's")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Ten 10 MB arrays, freed, then allocated and written again: the second round's page faults.
_CHILD = r"""
import resource
import numpy as np
import ember, ember._malloc as m

def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt

arrays = [np.ones(10 << 18, np.float32) for _ in range(10)]
del arrays
f0 = faults()
arrays = [np.ones(10 << 18, np.float32) for _ in range(10)]
print(m.tuned, faults() - f0)
"""


def _run(**env):
    full = {k: v for k, v in os.environ.items()
            if k not in ("EMBER_MALLOC_TUNE", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")}
    full.update(env, PYTHONPATH=os.pathsep.join(p for p in (ROOT, os.environ.get("PYTHONPATH"))
                                                 if p))
    out = subprocess.run([sys.executable, "-c", _CHILD], capture_output=True, text=True,
                         env=full, check=True).stdout.split()
    return out[0] == "True", int(out[1])


def test_import_keeps_freed_blocks_for_reuse():
    tuned, faults = _run()
    assert tuned
    # 100 MB written again into the blocks just freed: no fresh pages
    assert faults < 500


def test_opt_out_and_glibc_variables_leave_the_allocator_alone():
    tuned, faults = _run(EMBER_MALLOC_TUNE="0")
    assert not tuned
    # glibc's dynamic thresholds gave part of it back to the OS (20 MB here: 5,082 faults)
    assert faults > 2500
    # a user's own glibc setting wins over ember's
    tuned, _ = _run(MALLOC_TRIM_THRESHOLD_=str(1 << 20))
    assert not tuned


def test_tune_is_idempotent():
    from ember import _malloc

    assert _malloc.tune() == _malloc.tuned
    assert _malloc.tune() == _malloc.tuned
