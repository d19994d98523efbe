"""The checks every run makes before any work (and before the model loads): inputs exist, the output
is new (or -y) and writable, masks exist and fit the run."""

from __future__ import annotations

import os
from pathlib import Path

from rest_video.core.atomic import check_writable
from rest_video.core.config import PipelineConfig, check_masks_method
from rest_video.core.errors import ConfigError, MediaError
from rest_video.io.sequence import is_sequence_pattern, sequence_files


def check_paths(in_path: str | Path, style_path: str | Path | None, out_path: str | Path,
                overwrite: bool = False) -> tuple[Path, Path]:
    """The checks every run makes before any work: inputs exist, output is new (or -y) and writable."""
    src, dst = Path(in_path), Path(out_path)
    if not src.exists():
        if not (is_sequence_pattern(src) and sequence_files(src, limit=1)):
            raise MediaError(f"input not found: {src}")
    elif src.is_dir() and not sequence_files(src):
        raise MediaError(f"input is a folder without images, not a video or image: {src}")
    if style_path is not None:
        sp = Path(style_path)
        if not sp.is_file():
            raise MediaError(f"style image not found: {sp}")
        if dst.exists() and _same_file(sp, dst):
            raise MediaError(f"output {dst} is the style image; refusing to overwrite an input")
    if dst.exists() and _same_file(src, dst):
        raise MediaError(f"output {dst} is the input; refusing to overwrite an input")
    if not dst.suffix:
        raise MediaError(f"output {dst} has no extension (use .mp4, .mkv, .webm, .mov, .png, .jpg ...)")
    if is_sequence_pattern(dst):
        check_writable(dst.with_name(dst.name % 1), overwrite)
        return src, dst
    check_writable(dst, overwrite)
    return src, dst


def check_masks(content_mask: str | Path | None, style_mask: str | Path | None, cfg: PipelineConfig) -> None:
    """The checks a masked run makes before any work: the masks exist, and the run can use them."""
    if content_mask is None:
        if style_mask is not None:
            raise ConfigError(
                "--style-mask needs --content-mask (which region of the content takes which look)"
            )
        return
    check_masks_method(cfg.model.method)
    for path, what in ((content_mask, "content mask"), (style_mask, "style mask")):
        if path is not None and not Path(path).is_file():
            raise MediaError(
                f"{what} not found: {path}" if not Path(path).exists() else f"{what} is not a file: {path}"
            )


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False

