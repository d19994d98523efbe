"""Training REST: teacher loading, photo crops, losses and the loop."""

from __future__ import annotations

from pathlib import Path

from rest_video.train.config import load_train_config

__all__ = ["export", "train"]


def train(config: str | Path, overrides: list[str] | None = None, resume: bool = False,
          progress: bool | None = None) -> Path:
    """Train from a YAML file; returns the path of the exported ``final.safetensors``."""
    import torch

    from rest_video.train.trainer import Trainer

    cfg = load_train_config(config, overrides)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    return Trainer(cfg).fit(resume=resume, progress=progress)


def export(config: str | Path, overrides: list[str] | None, out: str | Path) -> Path:
    """Write the weights of the run's ``last.pt`` to ``out`` (safetensors, with steps and train time):
    its moving average when the run keeps one (``ema`` > 0), else its trained weights."""
    import torch

    from rest_video.core.errors import WeightsError
    from rest_video.models import load_checkpoint, save_weights

    cfg = load_train_config(config, overrides)
    ckpt = Path(cfg.out_dir) / "last.pt"
    if not ckpt.is_file():
        raise WeightsError(f"no checkpoint to export: {ckpt} (train first)")
    out = Path(out)
    if out.suffix != ".safetensors":
        raise WeightsError(f"--export needs a .safetensors file name, got {out}")
    model = load_checkpoint(ckpt)
    st = torch.load(ckpt, map_location="cpu", weights_only=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    extra = {"steps": int(st["step"]), "train_seconds": round(float(st["elapsed"]))}
    if "ema" in st:  # load_checkpoint took the moving average, as the run's own export does
        extra["ema"] = "moving average of the weights"
    save_weights(model.eval(), out, extra=extra)
    return out
