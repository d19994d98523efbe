"""Frame runners: in-order results, the ring logic of the CUDA runner (without CUDA), CUDA when present."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rest_video.core.errors import DeviceError
from rest_video.engine.cuda_runner import CudaFrameRunner, FrameRing, StagedRunner


class FakeAsyncRunner(StagedRunner):
    """A StagedRunner whose 'device work' finishes only when the test says so (or when waited on)."""

    def __init__(self, depth: int = 3, auto_ready: bool = False) -> None:
        super().__init__(depth)
        self.auto_ready = auto_ready
        self.events: list[tuple] = []
        self.max_in_flight = 0

    def _prepare(self, shape):
        self.events.append(("prepare", shape))
        self.slots: list[np.ndarray | None] = [None] * self.ring.depth
        self.finished: set[int] = set()

    def _launch(self, slot, frame):
        assert self.slots[slot] is None, "slot reused before its frame retired"
        self.slots[slot] = 255 - frame  # the 'network'
        if self.auto_ready:
            self.finished.add(slot)
        self.max_in_flight = max(self.max_in_flight, len(self.ring))
        self.events.append(("launch", slot))

    def _ready(self, slot):
        return slot in self.finished

    def _wait(self, slot):
        self.events.append(("wait", slot))
        self.finished.add(slot)

    def _result(self, slot):
        out = self.slots[slot]
        self.slots[slot] = None
        self.finished.discard(slot)
        return out


def _frames(n, h=4, w=5):
    return [np.full((h, w, 3), i, dtype=np.uint8) for i in range(n)]


def test_ring_slots_round_robin_and_capacity():
    ring = FrameRing(3)
    assert [ring.push(i) for i in range(3)] == [0, 1, 2]
    assert ring.full
    with pytest.raises(RuntimeError):
        ring.push(3)
    assert ring.pop() == (0, 0)
    assert ring.push(3) == 0  # the retired frame's slot
    assert [ring.pop() for _ in range(3)] == [(1, 1), (2, 2), (0, 3)]
    assert ring.oldest() is None and len(ring) == 0
    with pytest.raises(ValueError):
        FrameRing(0)


@pytest.mark.parametrize("depth", [1, 3, 4])
def test_frames_come_back_in_order_with_bounded_flight(depth):
    r = FakeAsyncRunner(depth)
    frames = _frames(10)
    out = []
    for i, f in enumerate(frames):
        got = r.submit(f, {"i": i})
        out.extend(got)
        assert len(r.ring) <= depth
    out.extend(r.flush())
    assert [m["i"] for _, m in out] == list(range(10))
    for (img, _), f in zip(out, frames, strict=False):
        np.testing.assert_array_equal(img, 255 - f)
    assert r.max_in_flight == depth
    assert r.flush() == []


def test_nothing_waits_until_the_ring_is_full():
    r = FakeAsyncRunner(3)
    frames = _frames(5)
    assert r.submit(frames[0], 0) == [] and r.submit(frames[1], 1) == [] and r.submit(frames[2], 2) == []
    assert not any(e[0] == "wait" for e in r.events)
    got = r.submit(frames[3], 3)  # full: the oldest is waited for, then the new frame takes its slot
    assert [m for _, m in got] == [0]
    assert r.events[-2:] == [("wait", 0), ("launch", 0)]


def test_finished_frames_are_returned_without_waiting():
    r = FakeAsyncRunner(3, auto_ready=True)
    for i, f in enumerate(_frames(4)):
        got = r.submit(f, i)
        assert [m for _, m in got] == [i] and len(r.ring) == 0


def test_finished_frames_behind_an_unfinished_one_wait_their_turn():
    r = FakeAsyncRunner(4)
    frames = _frames(3)
    r.submit(frames[0], 0)
    r.submit(frames[1], 1)
    r.finished.add(1)  # frame 1 done before frame 0
    assert r.submit(frames[2], 2) == []  # frame 0 not done: nothing may come back yet
    r.finished.add(0)
    r.finished.add(2)
    got = r.submit(frames[0], 3)
    assert [m for _, m in got] == [0, 1, 2]


def test_frame_size_change_flushes_and_reallocates():
    r = FakeAsyncRunner(3)
    a, b = _frames(2, 4, 5), _frames(2, 6, 2)
    out = r.submit(a[0], "a0") + r.submit(a[1], "a1")
    out += r.submit(b[0], "b0")  # the in-flight frames of the old size come back first
    out += r.flush()
    assert [m for _, m in out] == ["a0", "a1", "b0"]
    assert [e for e in r.events if e[0] == "prepare"] == [("prepare", (4, 5, 3)), ("prepare", (6, 2, 3))]


# ------------------------------------------------------------------------------ real runners
@pytest.fixture(scope="module")
def cpu_stylizer(random_weights):
    from rest_video import Stylizer, load_pipeline

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield Stylizer(load_pipeline(None, {"model.checkpoint": str(random_weights), "runtime.device": "cpu"}))
    torch.set_num_threads(n)


def test_cpu_make_runner_and_cuda_runner_refuses_cpu(cpu_stylizer, style_image):
    from rest_video.engine.runner import FrameRunner, make_runner

    style = cpu_stylizer.load_style(style_image, use_cache=False)
    runner = make_runner(cpu_stylizer, style, 1.0)
    assert type(runner) is FrameRunner
    frames = [np.random.default_rng(i).integers(0, 256, (12, 16, 3), dtype=np.uint8) for i in range(3)]
    out = [o for i, f in enumerate(frames) for o in runner.submit(f, i)] + runner.flush()
    assert [m for _, m in out] == [0, 1, 2]
    np.testing.assert_array_equal(out[1][0], cpu_stylizer.stylize(frames[1], style))
    with pytest.raises(DeviceError):
        CudaFrameRunner(cpu_stylizer, style, 1.0)


class _FakeStream:
    def __init__(self, log, name):
        self.log, self.name = log, name

    def wait_event(self, ev):
        self.log.append((self.name, "wait", ev.name))


class _FakeEvent:
    def __init__(self, log, name):
        self.log, self.name, self.recorded = log, name, False

    def record(self, stream):
        self.recorded = True
        self.log.append((stream.name, "record", self.name))

    def query(self):
        return self.recorded

    def synchronize(self):
        assert self.recorded, "waited for an event that was never recorded"


def _cpu_cuda_runner(stylizer, style, log: list) -> CudaFrameRunner:
    """A CudaFrameRunner with CPU stand-ins for pinned memory, streams and events."""
    import contextlib

    r = object.__new__(CudaFrameRunner)
    StagedRunner.__init__(r, 3)
    r.torch, r.stylizer, r.style, r.strength, r.stats_filter = torch, stylizer, style, 1.0, None
    r.device = stylizer.device
    r.in_dtype = torch.float32
    r.up, r.compute, r.down = (_FakeStream(log, n) for n in ("up", "compute", "down"))
    r.uploaded = [_FakeEvent(log, f"up{i}") for i in range(3)]
    r.computed = [_FakeEvent(log, f"comp{i}") for i in range(3)]
    r.downloaded = [_FakeEvent(log, f"down{i}") for i in range(3)]
    r.host_buffer = lambda shape: torch.empty(shape, dtype=torch.uint8)
    r.stream_context = lambda stream: contextlib.nullcontext()
    return r


def test_cuda_runner_hands_frames_over_the_budget_to_the_tiled_stylizer(random_weights, style_image):
    """A frame over runtime.max_memory_mb is not staged whole: the frames in flight come back
    first, then the tiled output, in order, and smaller frames go on through the ring."""
    from rest_video import Stylizer, load_pipeline

    st = Stylizer(load_pipeline(None, {"model.checkpoint": str(random_weights), "runtime.device": "cpu",
                                       "runtime.max_memory_mb": 1}))
    style = st.load_style(style_image, use_cache=False)
    log: list = []
    r = _cpu_cuda_runner(st, style, log)
    rng = np.random.default_rng(4)
    small = [rng.integers(0, 256, (10, 14, 3), dtype=np.uint8) for _ in range(3)]
    big = rng.integers(0, 256, (61, 97, 3), dtype=np.uint8)
    assert st.fits(1, 10, 14) and not st.fits(1, 61, 97)
    frames = small[:2] + [big] + small[2:]
    out = []
    for i, f in enumerate(frames):
        out.extend(r.submit(f, i))
    out.extend(r.flush())
    assert [m for _, m in out] == [0, 1, 2, 3]
    np.testing.assert_array_equal(out[2][0], st.stylize(big, style, 1.0))
    assert sum(1 for e in log if e[1] == "record" and e[2].startswith("up")) == 3  # the big one never staged


def test_cuda_runner_data_path_on_cpu(cpu_stylizer, style_image):
    """CudaFrameRunner's buffers, conversions and stream / event order, with CPU stand-ins for
    pinned memory, streams and events (the real thing runs in test_cuda_runner_matches_stylizer)."""
    style = cpu_stylizer.load_style(style_image, use_cache=False)
    log: list = []
    r = _cpu_cuda_runner(cpu_stylizer, style, log)
    rng = np.random.default_rng(3)
    frames = [rng.integers(0, 256, (10, 14, 3), dtype=np.uint8) for _ in range(5)]
    out = []
    for i, f in enumerate(frames):
        out.extend(r.submit(f, i))
    out.extend(r.flush())
    assert [m for _, m in out] == list(range(5))
    for img, i in out:
        ref = cpu_stylizer.stylize(frames[i], style)
        assert np.abs(img.astype(int) - ref.astype(int)).max() <= 1
    # per frame: upload recorded, compute waits for it and records, download waits for that and records
    assert log[:6] == [("up", "record", "up0"), ("compute", "wait", "up0"), ("compute", "record", "comp0"),
                       ("down", "wait", "comp0"), ("down", "record", "down0"), ("up", "record", "up1")]


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_runner_matches_stylizer(random_weights, style_image):
    from rest_video import Stylizer, load_pipeline
    from rest_video.engine.runner import make_runner

    st = Stylizer(load_pipeline(None, {"model.checkpoint": str(random_weights), "runtime.device": "cuda"}))
    style = st.load_style(style_image, use_cache=False)
    runner = make_runner(st, style, 1.0)
    assert isinstance(runner, CudaFrameRunner)
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 256, (36, 52, 3), dtype=np.uint8) for _ in range(7)]
    frames += [rng.integers(0, 256, (20, 30, 3), dtype=np.uint8) for _ in range(2)]  # size change
    out = []
    for i, f in enumerate(frames):
        out.extend(runner.submit(f, i))
    out.extend(runner.flush())
    assert [m for _, m in out] == list(range(len(frames)))
    for (img, i) in out:
        ref = st.stylize(frames[i], style)
        assert img.shape == frames[i].shape and img.dtype == np.uint8
        assert np.abs(img.astype(int) - ref.astype(int)).max() <= 1
