"""Where the time of one benchmark workload goes in ember: a cProfile run printed as a table.

Runs on one thread by default (cProfile sees only the calling thread; with the pool on, work
done by worker threads shows up as waiting). ``WORKLOAD`` is a short name (see ``NAMES``).

    python benchmarks/hotspots.py cnn [--steps 10] [--top 15] [--threads 1] [--markdown]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import run  # noqa: E402

# short name -> index in run.WORKLOADS
NAMES = {"cnn": 0, "lenet": 1, "mlp64": 2, "mlp1": 3, "add": 4, "chain": 5, "sgemm1024": 6,
         "sgemm4096": 7, "conv": 8, "pool": 9, "adam": 10}


def _where(key) -> str:
    path, line, fn = key
    if path == "~":
        return fn
    parts = path.replace("\\", "/").split("/")
    for anchor in ("ember", "benchmarks", "numpy"):
        if anchor in parts:
            parts = parts[len(parts) - 1 - parts[::-1].index(anchor):]
            break
    else:
        parts = parts[-1:]
    return f"{'/'.join(parts)}:{line}({fn})"


def profile(name: str, steps: int, top: int, threads: int, markdown: bool) -> None:
    import ember

    ember.set_num_threads(threads)
    _, make, _, _, _ = run.WORKLOADS[NAMES[name]]
    fn = make(ember)
    for _ in range(2):
        fn()
    t0 = time.perf_counter()
    for _ in range(steps):
        fn()
    per = (time.perf_counter() - t0) / steps
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(steps):
        fn()
    prof.disable()
    st = pstats.Stats(prof)
    total = sum(v[2] for v in st.stats.values())
    rows = sorted(st.stats.items(), key=lambda kv: kv[1][2], reverse=True)[:top]
    print(f"{run.WORKLOADS[NAMES[name]][0]}: {per * 1e3:.3f} ms per call without the profiler "
          f"({threads} thread{'s' if threads > 1 else ''}); own time of the top functions "
          "under cProfile:")
    unit, scale = ("ms", 1e3) if per >= 1e-3 else ("µs", 1e6)
    if markdown:
        print(f"\n| function | calls/step | own {unit}/step | share |\n|---|---:|---:|---:|")
    for key, (_, ncalls, tottime, _, _) in rows:
        cells = (_where(key), f"{ncalls / steps:g}", f"{tottime / steps * scale:.2f}",
                 f"{tottime / total:.0%}")
        if markdown:
            print(f"| `{cells[0]}` | {cells[1]} | {cells[2]} | {cells[3]} |")
        else:
            print(f"{cells[0]:70s} {cells[1]:>8s} {cells[2]:>9s} {cells[3]:>5s}")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("workload", choices=sorted(NAMES))
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--top", type=int, default=12)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--markdown", action="store_true")
    a = p.parse_args(argv)
    profile(a.workload, a.steps, a.top, a.threads, a.markdown)


if __name__ == "__main__":
    main()
