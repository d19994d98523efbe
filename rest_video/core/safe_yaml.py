"""YAML text -> plain data, bounded: what a config file or a ``--set`` value may contain.

Configuration needs mappings, lists and scalars, nothing more. So, on top of PyYAML's safe loader
(no tags that build objects), this loader refuses anchors and aliases (``&a`` / ``*a``): a few
hundred bytes of nested aliases expand to gigabytes (the "billion laughs" file), and no config of
ours needs them. Files are also bounded in size and nesting depth, must be UTF-8 text, and every
problem is a :class:`ConfigError` naming the file, never a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from rest_video.core.errors import ConfigError, first_line

MAX_BYTES = 1 << 20
"""The largest config file read (1 MiB; the shipped ones are about 3 KiB)."""

MAX_DEPTH = 32
"""The deepest nesting of mappings and lists allowed (ours need 3)."""


class RefusedYAML(yaml.YAMLError):
    """Valid YAML that a config may not use (an anchor or alias, too deep a nesting)."""

    def __init__(self, what: str, mark) -> None:
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        super().__init__(f"{what}{where}")


class _PlainLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing anchors, aliases and deep nesting before anything is built."""

    def __init__(self, stream) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            raise RefusedYAML(f"YAML aliases (*{event.anchor}) are not allowed in a config", event.start_mark)
        if getattr(event, "anchor", None):
            raise RefusedYAML(f"YAML anchors (&{event.anchor}) are not allowed in a config", event.start_mark)
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise RefusedYAML(f"nested deeper than {MAX_DEPTH} levels", event.start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def parse_yaml(text: str) -> Any:
    """``text`` as plain data; raises ``yaml.YAMLError`` (:class:`RefusedYAML` for what a config may
    not use)."""
    loader = _PlainLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def read_yaml_file(path: str | Path) -> Any:
    """The YAML file at ``path`` as plain data; every problem is one :class:`ConfigError` line."""
    p = Path(path)
    try:
        with open(p, "rb") as f:
            raw = f.read(MAX_BYTES + 1)
    except OSError as e:
        raise ConfigError(f"{p}: cannot read ({e.strerror or e})") from None
    if len(raw) > MAX_BYTES:
        raise ConfigError(f"{p}: larger than {MAX_BYTES // 1024} KiB, not a config file")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise ConfigError(f"{p}: not a UTF-8 text file (byte {e.start}); is it a config file?") from None
    if "\x00" in text:
        raise ConfigError(f"{p}: a binary file, not a YAML config")
    try:
        return parse_yaml(text)
    except RefusedYAML as e:
        raise ConfigError(f"{p}: {e}") from None
    except yaml.YAMLError as e:
        raise ConfigError(f"{p}: not valid YAML ({first_line(e, None)})") from None
    except RecursionError:
        raise ConfigError(f"{p}: nested too deeply") from None
