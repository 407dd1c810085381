"""The two engines under ``ember.distributed``'s process groups.

``MpiEngine`` runs collectives on NumPy arrays with MPI (mpi4py, over MPICH from the ``mpich``
wheel); it serves the "mpi" and "gloo" backends. ``NcclEngine`` runs them on CuPy arrays with NCCL
(``cupy.cuda.nccl``), its unique id broadcast over the group's MPI communicator; it serves "nccl".

Both take contiguous arrays (the process-group layer stages anything else) and return a
``Work``: nonblocking MPI requests, or a CUDA event recorded after the NCCL kernels on the
current stream. Reductions get a native operation from ``ReduceOp``; AVG is SUM followed by a
division in the layer above, so neither engine sees it.
"""

from __future__ import annotations

import numpy as np

from .. import _backend


class Work:
    """``torch.distributed.Work``: the handle of an asynchronous operation.

    ``wait()`` blocks until it is done (for NCCL: until the current stream is ordered after it,
    like PyTorch) and runs the steps that copy results into the tensors; ``is_completed()``
    polls without blocking.
    """

    def __init__(self, requests=(), event=None, finish=None, result=None) -> None:
        self._requests = list(requests)
        self._event = event
        self._finish = [finish] if finish is not None else []
        self._done = False
        self._result = result if result is not None else []
        self._statuses = None

    def _then(self, fn) -> Work:
        """Run ``fn()`` once the operation has completed (after earlier steps)."""
        if self._done:
            fn()
        else:
            self._finish.append(fn)
        return self

    def _complete(self) -> None:
        self._done = True
        steps, self._finish = self._finish, []
        for fn in steps:
            fn()

    def is_completed(self) -> bool:
        if self._done:
            return True
        if self._requests:
            from mpi4py import MPI

            if not MPI.Request.Testall(self._requests, self._statuses):
                return False
        if self._event is not None and not self._event.done:
            return False
        self._complete()
        return True

    def wait(self, timeout=None) -> bool:
        if not self._done:
            if self._requests:
                from mpi4py import MPI

                MPI.Request.Waitall(self._requests, self._statuses)
            if self._event is not None:
                # PyTorch's NCCL wait() orders the current stream after the work
                _backend.cupy_module().cuda.get_current_stream().wait_event(self._event)
            self._complete()
        return True

    def is_success(self) -> bool:
        return self.is_completed()

    def exception(self):
        return None

    def result(self) -> list:
        return self._result

    def __repr__(self) -> str:
        return f"<ember.distributed.Work completed={self._done}>"


# --------------------------------------------------------------------------------------- MPI
def _mpi():
    from mpi4py import MPI

    return MPI


class MpiEngine:
    """Collectives over an MPI communicator on NumPy arrays."""

    name = "mpi"

    def __init__(self, comm) -> None:
        self.comm = comm

    # Reductions need an MPI datatype: half types are reduced in float32, bool as uint8 (its
    # MIN/MAX are AND/OR, as PyTorch reduces bools).
    @staticmethod
    def _typed(arr: np.ndarray):
        if arr.dtype == np.bool_:
            return arr.view(np.uint8), None
        if arr.dtype.kind == "f" and arr.dtype.itemsize == 2 or arr.dtype.kind == "V" or \
                arr.dtype.name == "bfloat16":
            tmp = arr.astype(np.float32)
            return tmp, lambda: np.copyto(arr, tmp.astype(arr.dtype))
        return arr, None

    @staticmethod
    def _op(op: int, arr: np.ndarray):
        MPI = _mpi()
        from .distributed_c10d import ReduceOp

        return {ReduceOp.SUM: MPI.SUM, ReduceOp.AVG: MPI.SUM, ReduceOp.PRODUCT: MPI.PROD,
                ReduceOp.MIN: MPI.MIN, ReduceOp.MAX: MPI.MAX, ReduceOp.BAND: MPI.BAND,
                ReduceOp.BOR: MPI.BOR, ReduceOp.BXOR: MPI.BXOR}[op]

    @staticmethod
    def _bytes(arr: np.ndarray):
        MPI = _mpi()
        return [arr.reshape(-1).view(np.uint8), MPI.BYTE]

    def allreduce(self, arr, op) -> Work:
        buf, back = self._typed(arr)
        req = self.comm.Iallreduce(_mpi().IN_PLACE, buf, op=self._op(op, arr))
        return Work([req], finish=back)

    def reduce(self, arr, op, root) -> Work:
        buf, back = self._typed(arr)
        MPI = _mpi()
        if self.comm.Get_rank() == root:
            req = self.comm.Ireduce(MPI.IN_PLACE, buf, op=self._op(op, arr), root=root)
            return Work([req], finish=back)
        req = self.comm.Ireduce(buf, None, op=self._op(op, arr), root=root)
        return Work([req])

    def bcast(self, arr, root) -> Work:
        return Work([self.comm.Ibcast(self._bytes(arr), root=root)])

    def allgather(self, send, recv) -> Work:
        return Work([self.comm.Iallgather(self._bytes(send), self._bytes(recv))])

    def reduce_scatter(self, send, recv, op) -> Work:
        sbuf, _ = self._typed(send)
        rbuf, back = self._typed(recv)
        req = self.comm.Ireduce_scatter_block(sbuf, rbuf, op=self._op(op, recv))
        return Work([req], finish=back)

    def gather(self, send, recv, root) -> Work:
        rb = self._bytes(recv) if recv is not None else None
        return Work([self.comm.Igather(self._bytes(send), rb, root=root)])

    def scatter(self, send, recv, root) -> Work:
        sb = self._bytes(send) if send is not None else None
        return Work([self.comm.Iscatter(sb, self._bytes(recv), root=root)])

    def alltoallv(self, send, scounts, recv, rcounts) -> Work:
        MPI = _mpi()
        isz = send.dtype.itemsize
        sc = np.asarray(scounts, dtype=np.int64) * isz
        rc = np.asarray(rcounts, dtype=np.int64) * isz
        sd = np.concatenate([[0], np.cumsum(sc)[:-1]])
        rd = np.concatenate([[0], np.cumsum(rc)[:-1]])
        sbuf = [send.reshape(-1).view(np.uint8), (sc.tolist(), sd.tolist()), MPI.BYTE]
        rbuf = [recv.reshape(-1).view(np.uint8), (rc.tolist(), rd.tolist()), MPI.BYTE]
        return Work([self.comm.Ialltoallv(sbuf, rbuf)])

    def send(self, arr, peer, tag) -> Work:
        return Work([self.comm.Isend(self._bytes(arr), dest=peer, tag=tag)])

    def recv(self, arr, peer, tag) -> Work:
        MPI = _mpi()
        src = MPI.ANY_SOURCE if peer is None else peer
        w = Work([self.comm.Irecv(self._bytes(arr), source=src, tag=tag)])
        w._statuses = [MPI.Status()]
        return w

    def barrier(self) -> Work:
        return Work([self.comm.Ibarrier()])

    def close(self) -> None:
        pass


# -------------------------------------------------------------------------------------- NCCL
class NcclEngine:
    """Collectives over an NCCL communicator on CuPy arrays, launched on the current stream.

    The communicator is made on first use: the group's rank 0 creates the unique id and
    broadcasts it over MPI (``comm``), then every rank joins on its current CUDA device.
    """

    name = "nccl"

    def __init__(self, comm) -> None:
        self.comm = comm
        self._nccl_comm = None

    def _c(self):
        if self._nccl_comm is None:
            nccl = _backend.nccl_module()
            uid = nccl.get_unique_id() if self.comm.Get_rank() == 0 else None
            uid = self.comm.bcast(uid, root=0)
            self._nccl_comm = nccl.NcclCommunicator(self.comm.Get_size(), uid,
                                                    self.comm.Get_rank())
        return self._nccl_comm

    @staticmethod
    def _dtype(arr):
        nccl = _backend.nccl_module()
        table = {"int8": nccl.NCCL_INT8, "uint8": nccl.NCCL_UINT8, "bool": nccl.NCCL_UINT8,
                 "int32": nccl.NCCL_INT32, "uint32": nccl.NCCL_UINT32,
                 "int64": nccl.NCCL_INT64, "uint64": nccl.NCCL_UINT64,
                 "float16": nccl.NCCL_FLOAT16, "float32": nccl.NCCL_FLOAT32,
                 "float64": nccl.NCCL_FLOAT64}
        if hasattr(nccl, "NCCL_BFLOAT16"):
            table["bfloat16"] = nccl.NCCL_BFLOAT16
        name = arr.dtype.name
        if name not in table:
            raise RuntimeError(f"Unsupported dtype {name} for the NCCL backend")
        return table[name]

    @staticmethod
    def _op(op, arr):
        nccl = _backend.nccl_module()
        from .distributed_c10d import ReduceOp

        if arr.dtype == np.bool_:
            # bools reduce as uint8: OR for SUM/MAX, AND for PRODUCT/MIN
            return {ReduceOp.SUM: nccl.NCCL_MAX, ReduceOp.MAX: nccl.NCCL_MAX,
                    ReduceOp.AVG: nccl.NCCL_MAX, ReduceOp.PRODUCT: nccl.NCCL_MIN,
                    ReduceOp.MIN: nccl.NCCL_MIN}[op]
        table = {ReduceOp.SUM: nccl.NCCL_SUM, ReduceOp.AVG: nccl.NCCL_SUM,
                 ReduceOp.PRODUCT: nccl.NCCL_PROD, ReduceOp.MIN: nccl.NCCL_MIN,
                 ReduceOp.MAX: nccl.NCCL_MAX}
        if op not in table:
            raise RuntimeError(f"Cannot use {ReduceOp(op)} with NCCL")
        return table[op]

    def _work(self, keep=()) -> Work:
        cp = _backend.cupy_module()
        ev = cp.cuda.Event(disable_timing=True)
        ev.record(cp.cuda.get_current_stream())
        w = Work(event=ev)
        w._keep = keep  # temporaries must outlive the kernels
        return w

    @staticmethod
    def _stream() -> int:
        return _backend.cupy_module().cuda.get_current_stream().ptr

    def allreduce(self, arr, op) -> Work:
        self._c().allReduce(arr.data.ptr, arr.data.ptr, arr.size, self._dtype(arr),
                            self._op(op, arr), self._stream())
        return self._work()

    def reduce(self, arr, op, root) -> Work:
        self._c().reduce(arr.data.ptr, arr.data.ptr, arr.size, self._dtype(arr),
                         self._op(op, arr), root, self._stream())
        return self._work()

    def bcast(self, arr, root) -> Work:
        self._c().bcast(arr.data.ptr, arr.size, self._dtype(arr), root, self._stream())
        return self._work()

    def allgather(self, send, recv) -> Work:
        self._c().allGather(send.data.ptr, recv.data.ptr, send.size, self._dtype(send),
                            self._stream())
        return self._work((send, recv))

    def reduce_scatter(self, send, recv, op) -> Work:
        self._c().reduceScatter(send.data.ptr, recv.data.ptr, recv.size, self._dtype(recv),
                                self._op(op, recv), self._stream())
        return self._work((send, recv))

    def _p2p(self, parts) -> None:
        """Grouped point-to-point calls: ``parts`` is a list of (is_send, array, peer)."""
        nccl = _backend.nccl_module()
        c, s = self._c(), self._stream()
        nccl.groupStart()
        try:
            for is_send, arr, peer in parts:
                if arr.size == 0:
                    continue
                if is_send:
                    c.send(arr.data.ptr, arr.size, self._dtype(arr), peer, s)
                else:
                    c.recv(arr.data.ptr, arr.size, self._dtype(arr), peer, s)
        finally:
            nccl.groupEnd()

    def gather(self, send, recv, root) -> Work:
        n, me = self.comm.Get_size(), self.comm.Get_rank()
        if me != root:
            self._p2p([(True, send, root)])
            return self._work((send,))
        chunks = recv.reshape(n, -1)
        chunks[me] = send.reshape(-1)
        self._p2p([(False, chunks[r], r) for r in range(n) if r != me])
        return self._work((send, recv))

    def scatter(self, send, recv, root) -> Work:
        n, me = self.comm.Get_size(), self.comm.Get_rank()
        if me != root:
            self._p2p([(False, recv, root)])
            return self._work((recv,))
        chunks = send.reshape(n, -1)
        recv.reshape(-1)[...] = chunks[me]
        self._p2p([(True, chunks[r], r) for r in range(n) if r != me])
        return self._work((send, recv))

    def alltoallv(self, send, scounts, recv, rcounts) -> Work:
        sflat, rflat = send.reshape(-1), recv.reshape(-1)
        so = np.concatenate([[0], np.cumsum(scounts)]).tolist()
        ro = np.concatenate([[0], np.cumsum(rcounts)]).tolist()
        parts = []
        for r in range(self.comm.Get_size()):
            parts.append((True, sflat[so[r]:so[r + 1]], r))
            parts.append((False, rflat[ro[r]:ro[r + 1]], r))
        self._p2p(parts)
        return self._work((send, recv))

    def send(self, arr, peer, tag) -> Work:
        self._p2p([(True, arr, peer)])
        return self._work((arr,))

    def recv(self, arr, peer, tag) -> Work:
        if peer is None:
            raise RuntimeError("recv from any source (src=None) is not supported by the NCCL "
                               "backend")
        self._p2p([(False, arr, peer)])
        return self._work((arr,))

    def barrier(self) -> Work:
        cp = _backend.cupy_module()
        one = cp.ones(1, dtype=cp.float32)
        self.allreduce(one, 0)
        cp.cuda.get_current_stream().synchronize()
        return Work()

    def close(self) -> None:
        if self._nccl_comm is not None:
            self._nccl_comm.destroy()
            self._nccl_comm = None
