"""Reporting an evaluation: the Markdown table, the machine it ran on, and the marked section of a
Markdown file (``<!-- eval:SECTION:start/end -->``) that ``rest-video eval --out FILE`` replaces."""

from __future__ import annotations

import datetime as _dt
import os
import platform
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import torch

from rest_video.core.atomic import atomic_output, check_writable
from rest_video.core.errors import MediaError

SECTION = "dev-pairs"


@dataclass
class EvalRow:
    """One method's averages over ``pairs`` pairs."""

    method: str
    weights: str
    ssim: float
    gram: float
    seconds: float
    pairs: int
    palette: float = float("nan")


def format_markdown(rows: Iterable[EvalRow]) -> str:
    """A Markdown table: method, weights, SSIM, Gram loss, palette distance, seconds per image, pairs."""
    lines = ["| method | weights | SSIM ↑ | Gram loss ↓ | palette ↓ | s / image (CPU) | pairs |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        lines.append(f"| {r.method} | {r.weights} | {r.ssim:.4f} | {r.gram:.4g} | {r.palette:.3f} | "
                     f"{r.seconds:.4f} | {r.pairs} |")
    return "\n".join(lines)


def machine_info(device: torch.device | None = None) -> dict:
    """The machine a measurement ran on: CPU model and count, torch and its threads, platform, load
    average, and the device (with the GPU's name on CUDA). The one place this is read."""
    proc = platform.processor() or ""
    model = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            model = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), "")
    except OSError:
        pass
    info = {
        "cpu": model or proc or platform.machine(),
        "cpu_name": ", ".join(x for x in (model, proc or platform.machine()) if x) or "unknown CPU",
        "cpu_count": os.cpu_count(),
        "cpu_capability": getattr(torch.backends.cpu, "get_cpu_capability", lambda: "?")(),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "platform": platform.platform(),
        "system": f"{platform.system()} {platform.release()}",
    }
    if hasattr(os, "getloadavg"):
        info["load_average"] = [round(v, 2) for v in os.getloadavg()]
    if device is not None:
        info["device"] = str(device)
        if device.type == "cuda":
            info["gpu"] = torch.cuda.get_device_name(device)
    return info


def machine_description() -> str:
    """CPU name, CPU count, torch threads, load average (the provenance line of a report)."""
    info = machine_info()
    parts = [f"{info['cpu_name']}; {info['cpu_count']} CPUs; {info['system']}",
             f"torch {info['torch']} with {info['threads']} threads"]
    if hasattr(os, "getloadavg"):
        parts.append(
            "load average {:.1f} / {:.1f} / {:.1f} (1 / 5 / 15 min) at the start".format(*os.getloadavg())
        )
    return "; ".join(parts)


def render_section(rows: Sequence[EvalRow], command: str, pairs_file: str | Path, teacher: str,
                   max_side: int | None = None, machine: str | None = None,
                   date: str | None = None, wall_seconds: float | None = None) -> str:
    """The EVAL.md section body: provenance (command, date, machine), the table, metric definitions."""
    date = date or _dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    machine = machine or machine_description()
    n = rows[0].pairs if rows else 0
    size = f"long side shrunk to <= {max_side} px" if max_side else "full size"
    lines = [
        "## Dev pairs: content fidelity, style distance, speed",
        "",
        "```",
        command,
        "```",
        "",
        f"- date: {date}",
        f"- machine: {machine}",
        f"- pairs: {n} from `{pairs_file}`, {size}",
        f"- teacher for the Gram loss: {teacher}",
    ]
    if wall_seconds is not None:
        lines.append(f"- whole run: {wall_seconds:.0f} s")
    lines += [
        "",
        format_markdown(rows),
        "",
        "SSIM: grayscale (BT.601 luma) output vs content at the content's size, `kornia.metrics.ssim`, "
        "11x11 Gaussian window (sigma 1.5), valid region, mean. "
        "Gram loss: sum over relu1_1..relu5_1 of ||G(out) - G(style)||_F^2 with G = F F^T / (C H W). "
        "palette: sliced Wasserstein-1 distance between output and style pixel colours in CIE Lab "
        "(64 seeded directions, 20,000 pixels each, quantiles 0.5 %..99.5 %, mean absolute difference). "
        "s / image: wall time of the stylization alone (style statistics included), CPU fp32, "
        "mean over pairs after one untimed warm-up; REST rows run through `Stylizer` with the "
        "inference form unless the command says `--no-optimized`. Outputs are 8-bit, as the tool "
        "writes them. "
        "`reinhard`: mean/std in OpenCV Lab; `rgb-adain`: mean/std per RGB channel; "
        "`histmatch`: per-channel RGB histogram matching; `rest-untrained`: REST with random weights "
        "(seed 0), a floor for what training adds.",
    ]
    return "\n".join(lines)


def _markers(section: str) -> tuple[str, str]:
    return f"<!-- eval:{section}:start -->", f"<!-- eval:{section}:end -->"


def write_section(path: str | Path, body: str, section: str = SECTION,
                  title: str = "# rest-video evaluation") -> None:
    """Put ``body`` between ``<!-- eval:SECTION:start -->`` and ``<!-- eval:SECTION:end -->`` in ``path``.

    The file is re-read just before writing; everything outside the markers is kept. If the
    markers are absent the section is appended; if the file is absent it is created with ``title``.
    The write is atomic (temporary file + rename, file mode kept).
    """
    p = Path(path)
    start, end = _markers(section)
    block = f"{start}\n{body.strip()}\n{end}"
    check_writable(p, overwrite=True)
    try:
        text = p.read_text(encoding="utf-8") if p.exists() else None
    except (OSError, UnicodeDecodeError) as e:
        raise MediaError(f"cannot read {p}: {e}") from None
    if text is None:
        new = f"{title}\n\n{block}\n"
    else:
        i = text.find(start)
        j = text.find(end, i + len(start)) if i >= 0 else -1
        if i >= 0 and j < 0:
            raise MediaError(f"{p}: has {start} but no {end} after it; fix the file by hand")
        if i < 0:
            if end in text:
                raise MediaError(f"{p}: has {end} but no {start} before it; fix the file by hand")
            new = (
                text
                + ("" if text.endswith("\n") or not text else "\n")
                + ("\n" if text else "")
                + block
                + "\n"
            )
        else:
            new = text[:i] + block + text[j + len(end):]
    with atomic_output(p) as tmp:
        tmp.write_text(new, encoding="utf-8")
        if p.exists():
            shutil.copymode(p, tmp)
        else:
            os.chmod(tmp, 0o644)
