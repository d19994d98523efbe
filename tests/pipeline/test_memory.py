"""runtime.max_memory_mb bounds the whole file-mode process (queues, filters, codecs, network),
measured as the peak resident memory of a real run in a child process."""

import subprocess
import sys

import pytest
from media import make_clip

from rest_video.pipeline.memory import plan_memory

# the child's own peak: /proc's VmHWM belongs to the process image (getrusage's ru_maxrss also keeps the
# peak of the process it was forked from, here pytest's, across the exec)
RUN = ("import sys; from rest_video.cli.main import main; rc = main(sys.argv[1:]); "
       "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0]; "
       "print(rc, int(hwm.split()[1]) // 1024)")


def _peak_mb(clip, style, out, budget_mb: int | None) -> tuple[int, int, str]:
    extra = [] if budget_mb is None else ["--set", f"runtime.max_memory_mb={budget_mb}"]
    r = subprocess.run(
        [sys.executable, "-c", RUN, str(clip), str(style), str(out), "-y", "-q", "--path", "full", *extra],
        capture_output=True,
        text=True,
    )
    rc, peak = r.stdout.split()[-2:]
    return int(rc), int(peak), r.stderr


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="peak RSS as Linux reports it")
def test_a_small_budget_bounds_the_peak_resident_memory(tmp_path, style_image):
    clip = make_clip(tmp_path / "in.mp4", w=960, h=540, n=10)
    rc, free_peak, _ = _peak_mb(clip, style_image, tmp_path / "a.mp4", None)
    assert rc == 0
    budget = free_peak - 40                       # under what the run takes when it may
    rc, peak, err = _peak_mb(clip, style_image, tmp_path / "b.mp4", budget)
    assert rc == 0 and peak <= budget, (peak, budget, err)


def test_the_plan_shares_the_budget_in_order():
    roomy = plan_memory(16384, 3840, 2160, 8, network_need=3000 << 20, base=400 << 20)
    assert roomy.queue_size == 8 and roomy.network == 3000 << 20 and not roomy.return_freed
    tight = plan_memory(4096, 3840, 2160, 8, network_need=3000 << 20, base=400 << 20)
    assert tight.network < 3000 << 20 and tight.needed <= tight.budget and tight.return_freed
    lut = plan_memory(4096, 3840, 2160, 8, network_need=10 << 20, base=400 << 20)
    assert lut.network == 64 << 20 and lut.queue_size > tight.queue_size
    assert plan_memory(300, 3840, 2160, 8, network_need=3000 << 20, base=400 << 20).queue_size == 1
