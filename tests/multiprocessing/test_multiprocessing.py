"""``ember.multiprocessing`` against ``torch.multiprocessing``: the public names, sharing
strategies, and ``spawn``/``start_processes`` (results, a child's exception re-raised with its
traceback, exit codes and signals, ``join=False``)."""

from __future__ import annotations

import multiprocessing
import signal
import sys

import pytest

import ember.multiprocessing as emp
from tests.multiprocessing import _children as C

torch = pytest.importorskip("torch")
tmp = torch.multiprocessing

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX process tests")


def test_public_names_match_pytorch():
    assert emp.__all__ == tmp.__all__
    for name in tmp.__all__ + ["spawn", "start_processes", "ProcessContext", "SpawnContext",
                               "ProcessRaisedException", "ProcessExitedException",
                               "ProcessException"]:
        assert hasattr(emp, name), name
    assert emp.Queue.__func__ is multiprocessing.Queue.__func__
    assert issubclass(emp.ProcessRaisedException, emp.ProcessException)
    assert issubclass(emp.ProcessExitedException, emp.ProcessException)


def test_sharing_strategies():
    assert emp.get_all_sharing_strategies() == tmp.get_all_sharing_strategies()
    assert emp.get_sharing_strategy() == tmp.get_sharing_strategy()
    emp.set_sharing_strategy("file_system")
    try:
        assert emp.get_sharing_strategy() == "file_system"
    finally:
        emp.set_sharing_strategy("file_descriptor")
    for lib in (emp, tmp):
        with pytest.raises(AssertionError, match="invalid sharing strategy 'bogus'"):
            lib.set_sharing_strategy("bogus")


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_start_processes_runs_every_rank(tmp_path, method):
    emp.start_processes(C.write_rank, args=(str(tmp_path),), nprocs=2, start_method=method)
    assert sorted(p.read_text() for p in tmp_path.iterdir()) == ["0", "10"]


def test_spawn_reraises_child_exception():
    with pytest.raises(emp.ProcessRaisedException) as info:
        emp.start_processes(C.raise_on_one, nprocs=2, start_method="fork")
    e = info.value
    assert e.error_index == 1 and isinstance(e.error_pid, int)
    assert "-- Process 1 terminated with the following error:" in str(e)
    assert "ValueError: rank 1 failed" in str(e) and "Traceback" in str(e)


def test_exit_code_and_signal():
    with pytest.raises(emp.ProcessExitedException, match="process 0 terminated with exit "
                                                         "code 3") as info:
        emp.start_processes(C.exit_code, nprocs=2, start_method="fork")
    assert info.value.exit_code == 3 and info.value.signal_name is None
    with pytest.raises(emp.ProcessExitedException, match="terminated with signal SIGKILL") \
            as info:
        emp.start_processes(C.killed, nprocs=1, start_method="fork")
    assert info.value.exit_code == -signal.SIGKILL and info.value.signal_name == "SIGKILL"


def test_join_false_returns_context(tmp_path):
    ctx = emp.start_processes(C.write_rank, args=(str(tmp_path),), nprocs=2, join=False,
                              start_method="fork")
    assert isinstance(ctx, emp.ProcessContext) and len(ctx.pids()) == 2
    while not ctx.join(timeout=30):
        pass
    assert ctx.join() is True
    assert len(list(tmp_path.iterdir())) == 2


def test_spawn_warns_for_other_start_methods(tmp_path):
    with pytest.warns(FutureWarning, match="only supports start_method=spawn"):
        emp.spawn(C.write_rank, args=(str(tmp_path),), nprocs=1, start_method="fork")
    assert (tmp_path / "rank0").read_text() == "0"
    with pytest.warns(UserWarning, match="SpawnContext is renamed to ProcessContext"):
        emp.SpawnContext([], [])


def test_exceptions_pickle():
    import pickle

    e = pickle.loads(pickle.dumps(emp.ProcessExitedException("m", 1, 2, 3, "SIGX")))
    assert (e.msg, e.error_index, e.error_pid, e.exit_code, e.signal_name) == ("m", 1, 2, 3,
                                                                               "SIGX")
