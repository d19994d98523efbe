"""Quality and speed of REST and simple baselines on content/style pairs (paper section 4.3): what
``rest-video eval`` runs. Usable without the CLI::

    from rest_video.evaluation import read_pairs, default_methods, evaluate_pairs, format_markdown
    from rest_video.train.teacher import load_teacher

    pairs = read_pairs("../shared/data/dev-pairs.tsv", limit=5)
    methods = default_methods(checkpoint="runs/rest/last.pt")
    rows = evaluate_pairs(pairs, methods, load_teacher("vgg16-lpips"))
    print(format_markdown(rows))

The metrics are :mod:`rest_video.metrics` (SSIM, Gram loss, palette distance); seconds / image is
the wall time of the stylization only (style statistics included), on CPU, after one untimed
warm-up call per method.
"""

from rest_video.evaluation.methods import (
    Method,
    StylizeFn,
    baseline_methods,
    default_methods,
    histogram_match,
    load_rest_weights,
    reinhard_transfer,
    rest_method,
    rgb_adain_transfer,
    untrained_rest,
)
from rest_video.evaluation.pairs import BUILTIN_NAMES, Pair, parse_ablation, read_pairs
from rest_video.evaluation.report import (
    SECTION,
    EvalRow,
    format_markdown,
    machine_description,
    machine_info,
    render_section,
    write_section,
)
from rest_video.evaluation.run import evaluate_pairs, run_eval
from rest_video.evaluation.sheet import ContactSheet, sheet_columns

__all__ = [
    "BUILTIN_NAMES", "ContactSheet", "EvalRow", "Method", "Pair", "SECTION", "StylizeFn",
    "baseline_methods", "default_methods", "evaluate_pairs", "format_markdown", "histogram_match",
    "load_rest_weights", "machine_description", "machine_info", "parse_ablation", "read_pairs",
    "reinhard_transfer", "render_section", "rest_method", "rgb_adain_transfer", "run_eval", "sheet_columns",
    "untrained_rest", "write_section",
]
