"""Checkpoint save/load speed and memory, ember vs PyTorch in one run.

Workloads (issue: serialization): ``save`` and ``load`` of a state_dict of 100 float32 tensors
(100M floats, 400 MB; ``--quick``: 10M) to a file, and ember's ``load(mmap=True)``. Targets:
<= 1.3x PyTorch's time and <= 1.2x its peak memory.

Every operation runs in a fresh child process (so that one side's allocations cannot change the
other's memory figures); the child reports the wall time of the call and how far its resident
memory peaked above the level before the call (VmHWM - VmRSS from /proc: the peak of this
process image only). Sides alternate (ember, torch, torch, ember, ...) and medians are reported.

ember's save to a path is atomic: it fsyncs the file before renaming it into place, which
``torch.save`` does not do. The table therefore also compares with ``torch.save`` followed by
``os.fsync`` (the same durability).

    python benchmarks/serialization.py [--quick] [--rounds N] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Result, print_table, write_json  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _status(key: str) -> int:
    """A memory figure of this process from /proc/self/status, in KiB."""
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(key))


def _state_dict(lib, n_tensors: int, numel: int):
    import numpy as np

    rng = np.random.default_rng(0)
    return {f"layer{i}.weight": lib.from_numpy(rng.standard_normal(numel, dtype=np.float32))
            for i in range(n_tensors)}


def child(op: str, lib_name: str, path: str, n_tensors: int, numel: int) -> None:
    """Run one operation and print {"seconds", "peak_mib"} as JSON."""
    if lib_name == "torch":
        import torch as lib
    else:
        import ember as lib
    if op.startswith("save"):
        sd = _state_dict(lib, n_tensors, numel)
        before = _status("VmRSS:")
        t0 = time.perf_counter()
        lib.save(sd, path)
        if op == "save+fsync":
            with open(path, "rb+") as f:
                os.fsync(f.fileno())
        seconds = time.perf_counter() - t0
    else:
        before = _status("VmRSS:")
        t0 = time.perf_counter()
        sd = lib.load(path, weights_only=True, mmap=op == "load_mmap")
        seconds = time.perf_counter() - t0
        assert len(sd) == n_tensors
    print(json.dumps({"seconds": seconds, "peak_mib": (_status("VmHWM:") - before) / 1024}))


def run_child(op: str, lib: str, path: str, n_tensors: int, numel: int) -> dict:
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", op, lib, path,
                          str(n_tensors), str(numel)], capture_output=True, text=True, env=env)
    if out.returncode:
        raise RuntimeError(f"{op} with {lib} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def compare(name: str, ember_op, torch_op, rounds: int, target: float | None):
    """Alternate the two sides; return timing and memory Results (medians, paired ratios)."""
    e_runs, t_runs = [], []
    for r in range(rounds):
        pair = [ember_op, torch_op] if r % 2 == 0 else [torch_op, ember_op]
        res = [fn() for fn in pair]
        e, t = (res if r % 2 == 0 else res[::-1])
        e_runs.append(e)
        t_runs.append(t)

    def med(runs, key):
        return statistics.median(x[key] for x in runs)

    time_ratio = statistics.median(e["seconds"] / t["seconds"] for e, t in zip(e_runs, t_runs))
    mem_ratio = med(e_runs, "peak_mib") / max(med(t_runs, "peak_mib"), 1e-9)
    return (Result(name, med(e_runs, "seconds"), med(t_runs, "seconds"), time_ratio, rounds,
                   target),
            Result(name, med(e_runs, "peak_mib"), med(t_runs, "peak_mib"), mem_ratio, rounds,
                   None if target is None else 1.2))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="10M floats instead of 100M")
    p.add_argument("--rounds", type=int, default=None, help="runs per side (default 3, quick 5)")
    p.add_argument("--numel", type=int, default=None, help="floats per tensor (overrides size)")
    p.add_argument("--dir", default=None, help="where to write the files (default: a temp dir)")
    p.add_argument("--json", default=None, help="write results as JSON here")
    args = p.parse_args(argv)
    n_tensors = 100
    numel = args.numel or (100_000 if args.quick else 1_000_000)
    rounds = args.rounds or (5 if args.quick else 3)
    work = tempfile.mkdtemp(prefix="ember-bench-", dir=args.dir)
    size = f"{n_tensors} x {numel:,} float32 ({n_tensors * numel * 4 / 2**20:.0f} MiB)"
    e_file, t_file = os.path.join(work, "ember.pt"), os.path.join(work, "torch.pt")

    def op(name, lib, path):
        return lambda: run_child(name, lib, path, n_tensors, numel)

    try:
        pairs = [
            compare("save", op("save", "ember", e_file), op("save", "torch", t_file), rounds,
                    1.3),
            compare("save (torch + fsync: same durability)", op("save", "ember", e_file),
                    op("save+fsync", "torch", t_file), rounds, 1.3),
            # both sides load the same file, written by PyTorch
            compare("load", op("load", "ember", t_file), op("load", "torch", t_file), rounds,
                    1.3),
            compare("load, mmap=True (vs torch mmap=True)", op("load_mmap", "ember", t_file),
                    op("load_mmap", "torch", t_file), rounds, 1.3),
            compare("load, ember mmap=True vs torch mmap=False", op("load_mmap", "ember", t_file),
                    op("load", "torch", t_file), rounds, None),
        ]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    times = [t for t, _ in pairs]
    mems = [m for _, m in pairs]
    print_table(times, f"Checkpoint time, {size}, median of {rounds} runs per side")
    print_table(mems, "Peak resident memory above the level before the call",
                fmt=lambda mib: f"{mib:8.1f} MiB", columns=("ember", "pytorch"))
    if args.json:
        for t, m in pairs:
            t.extra = {"ember_peak_mib": m.ember_s, "torch_peak_mib": m.torch_s,
                       "peak_ratio": m.ratio}
        write_json(times, args.json, f"serialization, {size}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6]))
    else:
        main()
