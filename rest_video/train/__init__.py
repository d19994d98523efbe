"""Training REST: teacher loading, photo crops, losses and the loop."""

from __future__ import annotations

from pathlib import Path

from rest_video.config import load_train_config

__all__ = ["train"]


def train(config: str | Path, overrides: list[str] | None = None, resume: bool = False,
          progress: bool | None = None) -> Path:
    """Train from a YAML file; returns the path of the exported ``final.safetensors``."""
    import torch

    from rest_video.train.trainer import Trainer

    cfg = load_train_config(config, overrides)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    return Trainer(cfg).fit(resume=resume, progress=progress)
