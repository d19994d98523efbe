"""YAML data -> frozen dataclasses: the converter every config of rest-video goes through.

:func:`build` checks keys and value types against the dataclass's annotations and names the full
key path in every error (``output.crf``). Ranges are declared once, next to the field, with
:func:`bounded`; :func:`check_bounds` (called from the class's ``__post_init__``) enforces them, so a
config built by hand is checked the same way as one read from YAML.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from dataclasses import MISSING, dataclass, field, fields
from typing import Any, Literal, get_args, get_origin, get_type_hints

import yaml

from rest_video.core.errors import ConfigError
from rest_video.core.safe_yaml import parse_yaml


@dataclass(frozen=True)
class Bounds:
    """An allowed range: ``ge``/``gt`` below, ``le``/``lt`` above (None: open on that side).

    ``unit`` and ``note`` only word the error (``"pixels"``; ``"0 = torch's default"``). For a tuple,
    ``each`` names its values and every one is checked (``length``: the tuple must have that many).
    """

    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None
    unit: str = ""
    note: str = ""
    each: str = ""
    length: int | None = None

    def holds(self, v: float) -> bool:
        return ((self.ge is None or v >= self.ge) and (self.gt is None or v > self.gt)
                and (self.le is None or v <= self.le) and (self.lt is None or v < self.lt))

    def text(self) -> str:
        """The range in words: ``in 16..8192``, ``in [0, 1)``, ``>= 1``."""
        lo, hi = _first(self.ge, self.gt), _first(self.le, self.lt)
        if lo is not None and hi is not None:
            if self.gt is None and self.lt is None and _is_int(lo) and _is_int(hi):
                return f"in {lo}..{hi}"
            return (
                f"in {'[' if self.gt is None else '('}{_num(lo)}, {_num(hi)}{']' if self.lt is None else ')'}"
            )
        if lo is not None:
            return f"{'>=' if self.gt is None else '>'} {_num(lo)}"
        return f"{'<=' if self.lt is None else '<'} {_num(hi)}" if hi is not None else "any value"

    def check(self, name: str, value: Any) -> None:
        """A :class:`ConfigError` naming ``name`` unless ``value`` (None passes) is in range."""
        if value is None:
            return
        rng = self.text() + (f" {self.unit}" if self.unit else "") + (f" ({self.note})" if self.note else "")
        if self.length is not None or self.each:
            values = list(value)
            numbers = all(isinstance(v, (int, float)) for v in values)
            if (
                numbers
                and (self.length is None or len(values) == self.length)
                and all(map(self.holds, values))
            ):
                return
            if self.length is not None:
                raise ConfigError(f"{name} must be {self.length} {self.each or 'values'} {rng}, got {values}")
            raise ConfigError(f"{name}: {self.each} must be {rng}, got {values}")
        try:
            ok = self.holds(value)
        except TypeError:
            raise ConfigError(f"{name} must be a number {rng}, got {value!r}") from None
        if not ok:
            raise ConfigError(f"{name} must be {rng}, got {value}")


def bounded(default: Any = MISSING, bounds: Bounds | None = None, **kw: Any) -> Any:
    """A dataclass field whose value must lie in ``bounds`` (or ``Bounds(**kw)``)."""
    return field(default=default, metadata={"bounds": bounds or Bounds(**kw)})


def check_bounds(cfg: Any, section: str = "") -> None:
    """Check every :func:`bounded` field of dataclass ``cfg``; errors name ``section.field``."""
    for f in fields(cfg):
        b = f.metadata.get("bounds")
        if b is not None:
            b.check(f"{section}.{f.name}" if section else f.name, getattr(cfg, f.name))


def _first(a: float | None, b: float | None) -> float | None:
    return a if a is not None else b


def _is_int(v: float) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _num(v: float) -> str:
    return str(v) if _is_int(v) else f"{v:g}"


# --------------------------------------------------------------------------- overrides
def parse_override(text: str) -> tuple[str, Any]:
    """``"section.key=value"`` -> ``("section.key", value)``, the value parsed as YAML."""
    if "=" not in text:
        raise ConfigError(f"override {text!r} must look like section.key=value")
    key, raw = text.split("=", 1)
    try:
        value = parse_yaml(raw) if raw != "" else None
    except (yaml.YAMLError, RecursionError):  # not YAML (or YAML a config may not use): the text as it is
        value = raw
    return key.strip(), value


def apply_overrides(data: dict, overrides: list[str] | dict | None) -> dict:
    """A copy of ``data`` with ``overrides`` (``"a.b=v"`` strings or a ``{"a.b": v}`` mapping) set."""
    data = _deepcopy(data)
    if not overrides:
        return data
    items = overrides.items() if isinstance(overrides, dict) else (parse_override(o) for o in overrides)
    for key, value in items:
        node = data
        parts = key.split(".")
        for part in parts[:-1]:
            nxt = node.setdefault(part, {})
            if not isinstance(nxt, dict):
                raise ConfigError(f"{key}: {part} is not a section")
            node = nxt
        node[parts[-1]] = value
    return data


def _deepcopy(d: Any) -> Any:
    if isinstance(d, dict):
        return {k: _deepcopy(v) for k, v in d.items()}
    if isinstance(d, list):
        return [_deepcopy(v) for v in d]
    return d


def to_dict(cfg: Any) -> Any:
    """A config object as plain YAML-able data."""
    if dataclasses.is_dataclass(cfg):
        return {f.name: to_dict(getattr(cfg, f.name)) for f in fields(cfg)}
    if isinstance(cfg, tuple):
        return [to_dict(v) for v in cfg]
    if isinstance(cfg, dict):
        return {k: to_dict(v) for k, v in cfg.items()}
    return cfg


def parse_size(text: str, name: str = "--size", lo: int = 1, hi: int = 16384) -> tuple[int, int]:
    """``"640x480"`` (or ``640*480``) -> ``(640, 480)``, width and height each in ``lo..hi``; else a
    :class:`ConfigError` naming ``name`` (the flag or key)."""
    try:
        w, h = (int(v) for v in str(text).strip().lower().replace("*", "x").split("x"))
    except ValueError:
        raise ConfigError(f"{name} {text}: expected WIDTHxHEIGHT, e.g. 640x480") from None
    if not (lo <= w <= hi and lo <= h <= hi):
        raise ConfigError(f"{name} {text}: width and height must be in {lo}..{hi}")
    return w, h


# --------------------------------------------------------------------------- building
def build(cls: type, data: Any, path: str = "") -> Any:
    """Build dataclass ``cls`` from ``data``, rejecting unknown keys and mistyped values by key path."""
    if not isinstance(data, dict):
        raise ConfigError(f"{path or 'config'}: expected a mapping, got {type(data).__name__}")
    hints = get_type_hints(cls)
    names = {f.name for f in fields(cls)}
    for key in data:
        if key not in names:
            full = f"{path}.{key}" if path else str(key)
            raise ConfigError(f"unknown config key '{full}' (known: {', '.join(sorted(names))})")
    kwargs = {}
    for f in fields(cls):
        if f.name in data:
            full = f"{path}.{f.name}" if path else f.name
            kwargs[f.name] = convert(hints[f.name], data[f.name], full)
    try:
        return cls(**kwargs)
    except ConfigError as e:
        msg = str(e)
        if path and not msg.startswith(path):
            msg = f"{path}.{msg}" if "." not in msg.split(" ")[0] else msg
        raise ConfigError(msg) from None


def convert(tp: Any, value: Any, path: str) -> Any:
    """``value`` as type ``tp`` (a dataclass, Optional/Union, Literal, tuple, dict or scalar)."""
    origin = get_origin(tp)
    if dataclasses.is_dataclass(tp):
        return build(tp, value, path)
    if origin in (typing.Union, types.UnionType):
        return _convert_union(tp, value, path)
    if origin is Literal:
        if value not in get_args(tp):
            choices = ", ".join(repr(a) for a in get_args(tp))
            raise ConfigError(f"{path}: {value!r} is not one of {choices}")
        return value
    if origin is tuple:
        return _convert_tuple(tp, value, path)
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{path}: expected a mapping, got {value!r}")
        return {str(k): str(v) for k, v in value.items()}
    scalar = _SCALARS.get(tp)
    if scalar is None:
        raise ConfigError(f"{path}: unsupported type {tp}")
    return scalar(value, path)


def _convert_union(tp: Any, value: Any, path: str) -> Any:
    args = get_args(tp)
    if value is None and type(None) in args:
        return None
    errors = []
    for a in args:
        if a is type(None):
            continue
        try:
            return convert(a, value, path)
        except ConfigError as e:
            errors.append(str(e))
    raise ConfigError(errors[0] if errors else f"{path}: bad value {value!r}")


def _convert_tuple(tp: Any, value: Any, path: str) -> tuple:
    if isinstance(value, str) and "x" in value:  # "640x480": the numbers are checked as the tuple's
        value = value.split("x")
    if not isinstance(value, (list, tuple)):
        raise ConfigError(f"{path}: expected a list, got {value!r}")
    args = get_args(tp)
    if len(args) == 2 and args[1] is Ellipsis:
        return tuple(convert(args[0], v, path) for v in value)
    if len(args) != len(value):
        raise ConfigError(f"{path}: expected {len(args)} values, got {len(value)}")
    return tuple(convert(a, v, path) for a, v in zip(args, value, strict=False))


def _to_bool(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{path}: expected true or false, got {value!r}")
    return value


def _to_int(value: Any, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ConfigError(f"{path}: expected an integer, got {value!r}")
    try:
        return int(value)
    except ValueError:
        raise ConfigError(f"{path}: expected an integer, got {value!r}") from None


def _to_float(value: Any, path: str) -> float:
    if isinstance(value, bool):
        raise ConfigError(f"{path}: expected a number, got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{path}: expected a number, got {value!r}") from None
    if not math.isfinite(number):
        raise ConfigError(f"{path}: expected a finite number, got {value!r}")
    return number


def _to_str(value: Any, path: str) -> str:
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        raise ConfigError(f"{path}: expected a string, got {value!r}")
    return str(value)


_SCALARS = {bool: _to_bool, int: _to_int, float: _to_float, str: _to_str}
