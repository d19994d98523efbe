"""Thread counts for the inference form's ops: :func:`num_threads` (temporarily) and the
:class:`ThreadTuner` that times which count the convs run fastest on.

Small and memory-bound ops run on one thread: on a loaded CPU each multi-threaded parallel region
waits for a scheduler slice for its second thread (4-8 ms measured per op), far more than the op
itself; memset / Gram / sums were measured no slower on one thread there.
"""

from __future__ import annotations

import statistics

import torch


class ThreadTuner:
    """Picks the faster of a few thread counts per input shape from timed calls, like
    ``cudnn.benchmark`` picks algorithms: each candidate runs ``trials`` timed calls (after one
    untimed warm-up call), then the one with the lowest median is used; every ``retune_every``
    calls the candidates are timed again (the load on a shared machine changes).

    Measured on the project's 2-core CPU shared with two busy training processes: convs on one
    thread were 30 % faster per frame than on two; on an idle machine two threads win.
    """

    def __init__(self, trials: int = 2, retune_every: int = 100) -> None:
        self.trials = trials
        self.retune_every = retune_every
        self.state: dict[object, dict] = {}

    def choose(self, key: object, candidates: tuple[int, ...]) -> int:
        st = self.state.get(key)
        if st is None or tuple(st["times"]) != tuple(candidates):
            if len(self.state) > 16:
                self.state.clear()
            st = self.state[key] = {
                "times": {c: [] for c in candidates},
                "warm": set(),
                "calls": 0,
                "best": None,
            }
        st["calls"] += 1
        if st["best"] is not None:
            if st["calls"] % self.retune_every:
                return st["best"]
            st["best"] = None
            st["times"] = {c: [] for c in candidates}
        return min(candidates, key=lambda c: (c in st["warm"], len(st["times"][c])))

    def report(self, key: object, choice: int, seconds: float) -> None:
        st = self.state.get(key)
        if st is None or choice not in st["times"]:
            return
        if choice not in st["warm"]:  # first call with this choice: primitive creation, buffers
            st["warm"].add(choice)
            return
        st["times"][choice].append(seconds)
        if st["best"] is None and all(len(v) >= self.trials for v in st["times"].values()):
            st["best"] = min(st["times"], key=lambda c: statistics.median(st["times"][c]))

    def best(self, key: object) -> int | None:
        st = self.state.get(key)
        return None if st is None else st["best"]


class num_threads:
    """Temporarily run torch ops on ``n`` threads."""

    def __init__(self, n: int) -> None:
        self.n = max(1, int(n))

    def __enter__(self) -> None:
        self.old = torch.get_num_threads()
        if self.old != self.n:
            torch.set_num_threads(self.n)

    def __exit__(self, *exc) -> None:
        if self.old != self.n:
            torch.set_num_threads(self.old)
