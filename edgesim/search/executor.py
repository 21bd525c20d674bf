"""Where evaluations run: in this process, in worker processes, or on a Dask cluster.

Every executor returns evaluations in the order the genomes were given, so a search's history
never depends on where it ran.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

from edgesim.errors import SearchError
from edgesim.search.oracle import Evaluation, Oracle
from edgesim.search.problem import Genome

Item = Genome | None


class Executor(ABC):
    """Evaluates batches of genomes with one oracle."""

    name: str

    @abstractmethod
    def map(self, oracle: Oracle, genomes: Sequence[Item]) -> list[Evaluation]:
        """Evaluations of ``genomes``, in order."""

    def close(self) -> None:  # noqa: B027 - most executors hold nothing to release
        """Release workers (a Client passed in by the user stays open)."""


class SerialExecutor(Executor):
    name = "serial"

    def map(self, oracle: Oracle, genomes: Sequence[Item]) -> list[Evaluation]:
        return oracle.evaluate_many(genomes)


def _chunks(items: Sequence[Item], n: int) -> list[list[Item]]:
    size = max(1, -(-len(items) // n))
    return [list(items[i:i + size]) for i in range(0, len(items), size)]


# ---- worker processes (spawn or forkserver: forking after torch has run can hang) -------------
_WORKER_ORACLE: Oracle | None = None


def _init_worker(payload: bytes) -> None:
    global _WORKER_ORACLE
    _WORKER_ORACLE = pickle.loads(payload)  # noqa: S301 - our own pickled oracle


def _eval_in_worker(chunk: list[Item]) -> list[Evaluation]:
    assert _WORKER_ORACLE is not None
    return _WORKER_ORACLE.evaluate_many(chunk)


class ProcessExecutor(Executor):
    """A pool of worker processes on this machine, started once and fed chunks."""

    name = "processes"

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or os.cpu_count() or 1
        method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() \
            else "spawn"
        self._ctx = multiprocessing.get_context(method)
        if method == "forkserver":  # workers fork from a server that has imported edgesim once
            self._ctx.set_forkserver_preload(["edgesim.search.oracle"])
        self._pool: Any = None
        self._oracle_id: int | None = None

    def map(self, oracle: Oracle, genomes: Sequence[Item]) -> list[Evaluation]:
        from concurrent.futures import ProcessPoolExecutor

        if not genomes:
            return []
        if self._pool is None or self._oracle_id != id(oracle):
            self.close()
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers, mp_context=self._ctx, initializer=_init_worker,
                initargs=(pickle.dumps(oracle),))
            self._oracle_id = id(oracle)
        chunks = _chunks(genomes, self.workers * 4)
        out: list[Evaluation] = []
        for part in self._pool.map(_eval_in_worker, chunks):
            out.extend(part)
        return out

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


# ---- Dask distributed -------------------------------------------------------------------------
def _eval_on_dask(oracle: Oracle, chunk: list[Item]) -> list[Evaluation]:
    return oracle.evaluate_many(chunk)


class DaskExecutor(Executor):
    """Chunks of candidates submitted to a Dask scheduler, gathered as they complete and put
    back in candidate order. The oracle is scattered to every worker once."""

    name = "dask"

    def __init__(self, target: object) -> None:
        try:
            from distributed import Client
        except ImportError:
            raise SearchError("a Dask executor needs the 'distributed' package",
                              field="executor") from None
        if isinstance(target, Client):
            self.client = target
            self._own = False
        else:
            try:
                self.client = Client(str(target), timeout="10s", set_as_default=False)
            except OSError as exc:
                raise SearchError(f"cannot reach the Dask scheduler at {target}: {exc}",
                                  field="executor") from None
            self._own = True
        self._oracle_future: Any = None
        self._oracle_id: int | None = None

    @property
    def n_workers(self) -> int:
        info = self.client.scheduler_info()
        return max(1, sum(int(w.get("nthreads", 1)) for w in info.get("workers", {}).values()))

    def map(self, oracle: Oracle, genomes: Sequence[Item]) -> list[Evaluation]:
        from distributed import as_completed

        if not genomes:
            return []
        if self._oracle_future is None or self._oracle_id != id(oracle):
            self._oracle_future = self.client.scatter(oracle, broadcast=True)
            self._oracle_id = id(oracle)
        chunks = _chunks(genomes, self.n_workers * 4)
        futures = [self.client.submit(_eval_on_dask, self._oracle_future, c, pure=False)
                   for c in chunks]
        index = {f.key: i for i, f in enumerate(futures)}
        parts: list[list[Evaluation] | None] = [None] * len(chunks)
        for fut in as_completed(futures, loop=self.client.loop):
            parts[index[fut.key]] = fut.result()
        return [e for part in parts if part is not None for e in part]

    def close(self) -> None:
        if self._own:
            self.client.close()


def make_executor(spec: object) -> Executor:
    """``"serial"``, ``"processes"`` (or ``"processes:N"``), ``"tcp://HOST:PORT"`` or a Client."""
    if spec is None or spec == "serial":
        return SerialExecutor()
    if isinstance(spec, str):
        if spec == "processes" or spec.startswith("processes:"):
            n = spec.partition(":")[2]
            if n and not (n.isdigit() and int(n) > 0):
                raise SearchError(f"expected processes:N with N > 0, got {spec!r}",
                                  field="executor")
            return ProcessExecutor(int(n) if n else None)
        if spec.startswith(("tcp://", "tls://", "ws://", "inproc://")):
            return DaskExecutor(spec)
    if type(spec).__name__ == "Client":
        return DaskExecutor(spec)
    raise SearchError(f"expected serial, processes, a scheduler address such as "
                      f"tcp://127.0.0.1:8786, or a dask.distributed.Client, got {spec!r}",
                      field="executor")


__all__ = ["DaskExecutor", "Executor", "ProcessExecutor", "SerialExecutor", "make_executor"]
