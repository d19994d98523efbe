"""The REST training loop: checkpoints, resume, CSV loss log, progress, fixed seed."""

from __future__ import annotations

import copy
import csv
import json
import logging
import shutil
import signal
import sys
import threading
import time
from dataclasses import astuple, dataclass, fields
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from rest_video.core.schema import to_dict
from rest_video.core.signals import STOP_SIGNALS, Interrupted, signal_name
from rest_video.models import save_weights
from rest_video.models.rest import REST, RESTConfig
from rest_video.ops.palette import match_lab_mean_std
from rest_video.train.augment import augment_styles
from rest_video.train.config import TrainConfig
from rest_video.train.data import PhotoCrops
from rest_video.train.losses import (
    DistillHeads,
    color_loss,
    content_loss,
    gram_style_loss,
    identity_loss,
    pan_flicker,
    style_loss,
    tone_loss,
)
from rest_video.train.teacher import VGGTeacher, load_teacher

log = logging.getLogger(__name__)

@dataclass
class StepLosses:
    loss: float
    content: float
    style: float
    distill: float
    color: float = 0.0
    identity: float = 0.0
    tone: float = 0.0
    gram: float = 0.0
    flicker: float = 0.0


# loss.csv's columns: the step, every term of StepLosses in its order, the compute seconds so far
LOG_FIELDS = ["step", *(f.name for f in fields(StepLosses)), "seconds"]


class Trainer:
    """Owns model, distillation heads, optimiser, teacher and data for one training run."""

    def __init__(
        self, cfg: TrainConfig, teacher: VGGTeacher | None = None, data: PhotoCrops | None = None
    ) -> None:
        self.cfg = cfg
        torch.manual_seed(cfg.seed)
        self.rng = np.random.default_rng(cfg.seed)
        a = cfg.arch
        self.model = REST(RESTConfig(layers=a.layers, width=a.width, stylized=a.stylized, variant=a.variant))
        if cfg.init:
            self._init_from(cfg.init)
        # the moving average of the weights (cfg.ema > 0): what final.safetensors holds
        self.ema_model = copy.deepcopy(self.model).eval().requires_grad_(False) if cfg.ema > 0 else None
        self.aug_gen = torch.Generator().manual_seed(cfg.seed + 1)
        self.teacher = teacher if teacher is not None else load_teacher(cfg.teacher.kind, cfg.teacher.path)
        self.heads = DistillHeads(cfg.loss.distill_layers, a.width, self.teacher.channels)
        params = list(self.model.parameters()) + list(self.heads.parameters())
        self.opt = torch.optim.Adam(params, lr=cfg.lr)
        self.data = (
            data if data is not None else PhotoCrops(cfg.data.folders, cfg.data.crop, cfg.data.min_side)
        )
        self.step = 0
        self.elapsed = 0.0
        self.out_dir = Path(cfg.out_dir)

    # -- one step -----------------------------------------------------------------------
    def losses(self, content: Tensor, style: Tensor) -> tuple[Tensor, StepLosses]:
        lc = self.cfg.loss
        out, c_enc, s_enc = self.model.forward_train(content, style)
        with torch.no_grad():
            t_content = self.teacher(content)
            t_style = self.teacher(style)
            matched = (
                match_lab_mean_std(content, style)
                if lc.content_target == "color-matched" or lc.tone > 0
                else None
            )
            if lc.content_target == "color-matched":
                t_target = self.teacher(matched)[lc.content_layer - 1]
            else:
                t_target = t_content[lc.content_layer - 1]
        t_out = self.teacher(out)
        l_c = content_loss(t_out[lc.content_layer - 1], t_target)
        l_s = style_loss(t_out, t_style, lc.style_layers)
        if lc.distill > 0:
            l_d = self.heads(c_enc, t_content) + self.heads(s_enc, t_style)
        else:
            l_d = l_c.new_zeros(())
        total = lc.content * l_c + lc.style * l_s + lc.distill * l_d
        l_col = color_loss(out, style, self.aug_gen) if lc.color > 0 else l_c.new_zeros(())
        total = total + lc.color * l_col
        if lc.identity > 0:
            # AdaIN with the content's own statistics is the identity: decode its features as they are
            recon = self.model.decoder({layer: c_enc[layer - 1] for layer in self.model.cfg.stylized})
            l_id = identity_loss(recon, content)
            total = total + lc.identity * l_id
        else:
            l_id = l_c.new_zeros(())
        l_tone = tone_loss(out, matched) if lc.tone > 0 else l_c.new_zeros(())
        total = total + lc.tone * l_tone
        l_gram = gram_style_loss(t_out, t_style, lc.gram_layers) if lc.gram > 0 else l_c.new_zeros(())
        total = total + lc.gram * l_gram
        l_flicker = pan_flicker(out, content, lc.flicker_scale) if lc.flicker > 0 else l_c.new_zeros(())
        total = total + lc.flicker * l_flicker
        return total, StepLosses(total.item(), l_c.item(), l_s.item(), l_d.item(), l_col.item(), l_id.item(),
                                 l_tone.item(), l_gram.item(), l_flicker.item())

    def train_step(self, content: Tensor | None = None, style: Tensor | None = None) -> StepLosses:
        self.model.train()
        if self.cfg.bn == "frozen":
            # Normalise with the running statistics, as inference does: batch statistics shift
            # each batch's colours and contrast to a common mean, so the decoder never sees a
            # style's absolute look at training time.
            for m in self.model.modules():
                if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
                    m.eval()
        self.heads.train()
        if content is None:
            content = self.data.batch(self.cfg.batch, self.rng)
        if style is None:
            style = augment_styles(self.data.batch(self.cfg.batch, self.rng), self.cfg.data.style_augment,
                                   self.aug_gen)
        total, parts = self.losses(content, style)
        self.opt.zero_grad(set_to_none=True)
        total.backward()
        self.opt.step()
        self._update_ema()
        self.step += 1
        return parts

    @torch.no_grad()
    def _update_ema(self) -> None:
        if self.ema_model is None:
            return
        for e, p in zip(self.ema_model.parameters(), self.model.parameters(), strict=False):
            e.lerp_(p, 1.0 - self.cfg.ema)
        for e, b in zip(self.ema_model.buffers(), self.model.buffers(), strict=False):
            e.copy_(b)

    @property
    def result_model(self) -> REST:
        """The weights a run exports: the moving average when ``ema`` > 0, else the trained ones."""
        return self.ema_model if self.ema_model is not None else self.model

    def _init_from(self, path: str) -> None:
        """Start from trained weights (fresh heads and optimiser); the architecture must match."""
        from rest_video.core.errors import ConfigError
        from rest_video.models import load_checkpoint

        src = load_checkpoint(path)
        if src.cfg != self.model.cfg:
            raise ConfigError(f"init: {path} is {src.cfg}, the config asks for {self.model.cfg}")
        self.model.load_state_dict(src.state_dict())

    # -- checkpoints ----------------------------------------------------------------------
    @property
    def ckpt_path(self) -> Path:
        return self.out_dir / "last.pt"

    def save(self) -> None:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        state = {
            "step": self.step,
            "elapsed": self.elapsed,
            "arch": self.model.cfg.to_dict(),
            "model": self.model.state_dict(),
            "heads": self.heads.state_dict(),
            "opt": self.opt.state_dict(),
            "torch_rng": torch.get_rng_state(),
            "np_rng": json.dumps(self.rng.bit_generator.state),
            "aug_rng": self.aug_gen.get_state(),
        }
        if self.ema_model is not None:
            state["ema"] = self.ema_model.state_dict()
        tmp = self.ckpt_path.with_suffix(".pt.part")
        try:
            torch.save(state, tmp)
            tmp.replace(self.ckpt_path)
        except BaseException:  # a second Ctrl-C mid-save: last.pt stays the previous checkpoint
            tmp.unlink(missing_ok=True)
            raise

    def load(self) -> bool:
        if not self.ckpt_path.is_file():
            return False
        st = torch.load(self.ckpt_path, map_location="cpu", weights_only=True)
        self.model.load_state_dict(st["model"])
        self.heads.load_state_dict(st["heads"])
        self.opt.load_state_dict(st["opt"])
        for group in self.opt.param_groups:  # the config's learning rate wins: a resumed run may anneal it
            group["lr"] = self.cfg.lr
        torch.set_rng_state(st["torch_rng"])
        self.rng.bit_generator.state = json.loads(st["np_rng"])
        if "aug_rng" in st:
            self.aug_gen.set_state(st["aug_rng"])
        if self.ema_model is not None:
            # a state saved without the average (ema was off): the average starts from its weights
            self.ema_model.load_state_dict(st.get("ema", st["model"]))
        self.step = int(st["step"])
        self.elapsed = float(st["elapsed"])
        return True

    # -- the loop -------------------------------------------------------------------------
    def fit(self, resume: bool = False, progress: bool | None = None) -> Path:
        cfg = self.cfg
        self.out_dir.mkdir(parents=True, exist_ok=True)
        if resume and self.load():
            log.info("resumed %s at step %d", self.ckpt_path, self.step)
        (self.out_dir / "config.yaml").write_text(_yaml(to_dict(cfg)))
        log_path = self.out_dir / "loss.csv"
        _truncate_log(log_path, self.step)
        new_log = not log_path.is_file()
        logf = open(log_path, "a", newline="")
        writer = csv.writer(logf)
        if new_log:
            writer.writerow(LOG_FIELDS)
        if progress is None:
            progress = sys.stderr.isatty()
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=cfg.steps, initial=self.step, desc="train", unit="step", dynamic_ncols=True)
        stop = _StopRequest()
        try:
            while self.step < cfg.steps:
                if stop.requested:
                    self.save()
                    log.info("stopped at step %d (%s); checkpoint %s saved, --resume continues",
                             self.step, signal_name(stop.requested), self.ckpt_path)
                    raise Interrupted(stop.requested)
                t0 = time.perf_counter()
                parts = self.train_step()
                self.elapsed += time.perf_counter() - t0
                if self.step % cfg.log_every == 0 or self.step == cfg.steps:
                    writer.writerow([self.step, *(f"{v:.5f}" for v in astuple(parts)), f"{self.elapsed:.1f}"])
                    logf.flush()
                    if bar is None:
                        terms = " ".join(f"{f.name} {getattr(parts, f.name):.4f}" for f in fields(StepLosses))
                        per_step = self.elapsed / max(self.step, 1)
                        log.info(f"step {self.step}/{cfg.steps} {terms} ({per_step:.2f} s/step)")
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix(
                        loss=f"{parts.loss:.3f}",
                        c=f"{parts.content:.3f}",
                        s=f"{parts.style:.3f}",
                        d=f"{parts.distill:.3f}",
                    )
                if self.step % cfg.checkpoint_every == 0:
                    self.save()
                if cfg.keep_every and self.step % cfg.keep_every == 0:
                    self.save()
                    shutil.copyfile(self.ckpt_path, self.out_dir / f"step_{self.step:06d}.pt")
        finally:
            stop.restore()
            logf.close()
            if bar is not None:
                bar.close()
        self.save()
        final = self.out_dir / "final.safetensors"
        extra = {"steps": self.step, "train_seconds": round(self.elapsed)}
        if self.ema_model is not None:
            extra["ema"] = "moving average of the weights"
        save_weights(self.result_model.eval(), final, extra=extra)
        return final


class _StopRequest:
    """SIGTERM, SIGHUP or a first Ctrl-C ask the loop to stop after the current step and save a
    checkpoint (so ``kill``, a closed terminal or Ctrl-C never loses more than one step); a second
    Ctrl-C interrupts at once. The loop then raises :class:`Interrupted` with the signal's number."""

    def __init__(self) -> None:
        self.requested = 0  # the signal number, 0 while none came
        self._old: dict[int, object] = {}
        if threading.current_thread() is threading.main_thread():
            for sig in STOP_SIGNALS:
                self._old[sig] = signal.signal(sig, self._handle)

    def _handle(self, signum, frame) -> None:
        if self.requested and signum == signal.SIGINT:
            raise Interrupted(signum)
        self.requested = self.requested or signum

    def restore(self) -> None:
        for sig, old in self._old.items():
            signal.signal(sig, old)
        self._old = {}


def _truncate_log(path: Path, step: int) -> None:
    """Drop log rows after ``step`` (they belong to work lost since the last checkpoint)."""
    if not path.is_file():
        return
    rows = list(csv.reader(path.open()))
    if not rows:
        return
    header = rows[0]
    body = [r for r in rows[1:] if r and int(r[0]) <= step]
    if header != LOG_FIELDS:  # a log from before a column was added: fill it with 0
        body = [[dict(zip(header, r, strict=False)).get(f, "0") for f in LOG_FIELDS] for r in body]
    keep = [LOG_FIELDS] + body
    with path.open("w", newline="") as f:
        csv.writer(f).writerows(keep)


def _yaml(data: dict) -> str:
    import yaml

    return yaml.safe_dump(data, sort_keys=False)
