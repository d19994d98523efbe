"""Lab scripts: measurements that write EVAL.md and BENCHMARKS.md; run as `python tools/NAME.py`
from the repo root."""
