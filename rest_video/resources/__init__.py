"""Files shipped inside the package (found with :mod:`importlib.resources`, so an installed wheel
has them too): pipeline YAMLs (``resources/pipelines``) and the default style photos
(``resources/styles``; a source checkout links them as ``pipelines/`` and ``samples/styles/``).

The bottom of the package: it imports nothing from rest_video (the config reads pipelines by name)."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


class PipelineNotFound(FileNotFoundError):
    """No such config file and no shipped pipeline of that name (the config makes it a ConfigError)."""


def _folder(name: str) -> Path:
    return Path(str(files(__name__).joinpath(name)))


def pipelines_dir() -> Path:
    """The folder of the shipped pipeline YAMLs (``default``, ``fast-preview``, ``strong-look``,
    ``train``)."""
    return _folder("pipelines")


def pipeline_names() -> list[str]:
    """Names of the shipped pipelines, sorted."""
    return sorted(p.stem for p in pipelines_dir().glob("*.yaml"))


def resolve_pipeline(spec: str | Path) -> Path:
    """``spec`` as a path when that file exists, else a shipped pipeline by name (``fast-preview``
    or ``fast-preview.yaml``); an unknown name is a :class:`PipelineNotFound` listing the shipped ones."""
    p = Path(spec)
    if p.is_file():
        return p
    if p.parent == Path(".") and p.suffix in ("", ".yaml"):
        shipped = pipelines_dir() / f"{p.stem}.yaml"
        if shipped.is_file():
            return shipped
    raise PipelineNotFound(f"config file not found: {p} (shipped pipelines: {', '.join(pipeline_names())})")


def styles_dir() -> Path:
    """The folder of the shipped style photos (live mode's default styles)."""
    return _folder("styles")
