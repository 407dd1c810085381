"""Side-by-side timing of ember and PyTorch on the same work, in one process.

Each workload is a pair of zero-argument callables (ember's, PyTorch's). They run alternately
(A B A B ...) so that both see the same machine state; the reported figure is the median of the
per-round ratios ember/PyTorch (<= 1.0 means ember is as fast).

Each timed block starts after one untimed call of the same callable, so both sides are timed in
their own steady state, as in a training loop that runs one library: the first call after a
switch pays for the other library (PyTorch's OpenMP threads still spinning on both cores when
ember starts, and asleep again when PyTorch's turn comes). LeNet at 2 threads, runs without
and with the untimed call: PyTorch 6.12 and 5.94 ms, ember 9.61 and 8.56 ms.
``EMBER_BENCH_SETTLE=0`` times the first call too (this suite's method before its fourth pass).
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from dataclasses import asdict, dataclass, field


@dataclass
class Result:
    name: str
    ember_s: float
    torch_s: float
    ratio: float
    rounds: int
    target: float | None = None
    extra: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool | None:
        return None if self.target is None else self.ratio <= self.target


def _time_once(fn, inner: int, settle: bool = False) -> float:
    if settle:
        fn()
    t0 = time.perf_counter()
    for _ in range(inner):
        fn()
    return (time.perf_counter() - t0) / inner


def calibrate(fn, budget_s: float = 0.02) -> int:
    """How many calls make one timing sample of about ``budget_s`` seconds."""
    fn()
    n = 1
    while True:
        t = _time_once(fn, n)
        if t * n >= budget_s or n >= 1 << 20:
            return n
        n *= 2


def compare(name: str, ember_fn, torch_fn, *, rounds: int = 15, budget_s: float = 0.02,
            target: float | None = None, warmup: int = 2) -> Result:
    """Time both callables alternately; return medians and the median paired ratio."""
    for _ in range(warmup):
        ember_fn()
        torch_fn()
    inner = max(calibrate(ember_fn, budget_s), calibrate(torch_fn, budget_s))
    e_times, t_times, ratios = [], [], []
    settle = os.environ.get("EMBER_BENCH_SETTLE", "1") != "0"
    for r in range(rounds):
        # alternate which side goes first so neither always runs on a warmer cache
        if r % 2:
            t = _time_once(torch_fn, inner, settle)
            e = _time_once(ember_fn, inner, settle)
        else:
            e = _time_once(ember_fn, inner, settle)
            t = _time_once(torch_fn, inner, settle)
        e_times.append(e)
        t_times.append(t)
        ratios.append(e / t)
    return Result(name, statistics.median(e_times), statistics.median(t_times),
                  statistics.median(ratios), rounds, target)


def _fmt_time(s: float) -> str:
    if s < 1e-3:
        return f"{s * 1e6:9.2f} us"
    if s < 1:
        return f"{s * 1e3:9.2f} ms"
    return f"{s:9.3f} s "


def print_table(results, title: str, fmt=_fmt_time, columns=("ember", "pytorch")) -> None:
    """One row per result; ``fmt`` formats the two measured values (12 characters wide)."""
    print(f"\n{title}")
    print(f"{'workload':48s} {columns[0]:>12s} {columns[1]:>12s} {'ratio':>7s} {'target':>7s}")
    for r in results:
        tgt = f"{r.target:.2f}" if r.target is not None else ""
        flag = "" if r.ok is None else ("  ok" if r.ok else "  ABOVE")
        if r.extra.get("unit") == "MB":  # a memory row among timings
            e, t = f"{r.ember_s:9.1f} MB", f"{r.torch_s:9.1f} MB"
        else:
            e, t = fmt(r.ember_s), fmt(r.torch_s)
        print(f"{r.name:48s} {e} {t} "
              f"{r.ratio:7.2f} {tgt:>7s}{flag}")


def machine_info() -> dict:
    import numpy

    info = {"python": sys.version.split()[0], "numpy": numpy.__version__,
            "platform": platform.platform(), "cpus": os.cpu_count()}
    if hasattr(os, "getloadavg"):
        # other processes on the machine skew both sides, PyTorch's spinning threads most
        info["load_average"] = round(os.getloadavg()[0], 2)
    try:
        import torch

        info["torch"] = torch.__version__
        info["torch_threads"] = torch.get_num_threads()
    except ImportError:
        pass
    return info


def write_json(results, path: str, title: str) -> None:
    rec = {"title": title, "time": time.strftime("%Y-%m-%dT%H:%M:%S"),
           "machine": machine_info(),
           "results": [dict(asdict(r), ok=r.ok) for r in results]}
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        json.dump(rec, f, indent=2)
    print(f"\nwrote {path}")
