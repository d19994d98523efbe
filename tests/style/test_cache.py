"""rest_video.style: StyleStats round trip, the disk cache and its key, and the Stylizer's use of it."""

import logging

import numpy as np
import pytest
import torch
from media import make_frame

from rest_video import Stylizer, load_pipeline
from rest_video.style import StyleCache, StyleStats, cache_key, file_hash
from rest_video.style.cache import FORMAT


def stats():
    g = torch.Generator().manual_seed(0)
    return StyleStats({3: torch.rand(1, 4, 1, 1, generator=g)}, {3: torch.rand(1, 4, 1, 1, generator=g)})


def test_state_dict_round_trip():
    s = stats()
    back = StyleStats.from_state_dict(s.state_dict())
    assert torch.equal(back.mean[3], s.mean[3]) and torch.equal(back.std[3], s.std[3]) and back.cov == {}


def test_cache_saves_loads_and_ignores_damage(tmp_path):
    cache = StyleCache(tmp_path)
    key = cache_key("abc", "w1", 1024, False)
    assert cache.load(key) is None
    cache.save(key, stats())
    assert torch.equal(cache.load(key).mean[3], stats().mean[3])
    cache.path(key).write_bytes(b"damaged")
    assert cache.load(key) is None                               # recomputed, never fatal


def test_key_depends_on_every_part(tmp_path):
    base = cache_key("abc", "w1", 1024, False)
    assert len({base, cache_key("abd", "w1", 1024, False), cache_key("abc", "w2", 1024, False),
                cache_key("abc", "w1", 512, False), cache_key("abc", "w1", 1024, True)}) == 5
    (tmp_path / "a").write_bytes(b"x")
    (tmp_path / "b").write_bytes(b"x")
    assert file_hash(tmp_path / "a") == file_hash(tmp_path / "b") and len(file_hash(tmp_path / "a")) == 64


def test_a_cache_hit_decodes_nothing(tmp_path, random_weights, style_image, monkeypatch):
    import rest_video.style.loader as loader_module

    st = Stylizer(load_pipeline(None, {"model.checkpoint": str(random_weights), "runtime.device": "cpu"}),
                  cache=StyleCache(tmp_path))
    first = st.load_style(style_image)
    assert len(list(tmp_path.iterdir())) == 1
    monkeypatch.setattr(loader_module, "read_image", lambda *a, **k: (_ for _ in ()).throw(AssertionError))
    again = st.load_style(style_image)                           # from the cache: no decode, no resize
    assert torch.equal(again.mean[3], first.mean[3])


@pytest.fixture
def warnings_logged():
    """Warning lines the library logs (its logger may not propagate to pytest's caplog)."""
    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = records.append
    logger = logging.getLogger("rest_video")
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)


def _damaged(sd: dict, damage: str) -> tuple[dict, str]:
    sd = {k: v.clone() for k, v in sd.items()}
    if damage == "shape":
        sd["mean.3"] = torch.zeros(1, 8, 1, 1)
    elif damage == "missing-layer":
        del sd["mean.3"], sd["std.3"]
    elif damage == "nan":
        sd["std.4"][0, 2] = float("nan")
    return sd, FORMAT if damage != "format" else "rest-video-style/0"


@pytest.fixture(scope="module")
def cached_stylizer(random_weights, tmp_path_factory):
    """One Stylizer for the damage cases (building one takes most of a case's time)."""
    root = tmp_path_factory.mktemp("style-cache")
    return Stylizer(load_pipeline(None, {"model.checkpoint": str(random_weights), "runtime.device": "cpu"}),
                    cache=StyleCache(root)), root


@pytest.mark.parametrize("damage", ["shape", "missing-layer", "nan", "format"])
def test_a_bad_cache_entry_is_recomputed_with_one_warning(
    cached_stylizer, style_image, warnings_logged, damage
):
    from safetensors.torch import save_file

    st, tmp_path = cached_stylizer
    for old in tmp_path.iterdir():
        old.unlink()
    good = st.load_style(style_image)
    frame = make_frame(32, 24, 3)
    expected = st.stylize(frame, good)
    [entry] = tmp_path.iterdir()
    planted, fmt = _damaged(good.state_dict(), damage)
    save_file(planted, str(entry), metadata={"format": fmt})
    again = st.load_style(style_image)  # was: a traceback, or exit 0 and a black video
    assert np.array_equal(st.stylize(frame, again), expected)
    assert len(warnings_logged) == 1 and "recomputing" in warnings_logged[0].getMessage()
    assert str(entry) in warnings_logged[0].getMessage()
    st.load_style(style_image)                                   # rewritten: a clean hit now
    assert len(warnings_logged) == 1 and StyleCache(tmp_path).load(entry.stem) is not None


def test_stats_check_names_the_problem():
    s = stats()
    s.check((3,), 4)
    s.check()
    for layers, channels, with_cov, fragment in [
        ((3, 4), 4, False, r"expected \[3, 4\]"),
        ((3,), 16, False, "shape"),
        ((3,), 4, True, "cov_mean"),
    ]:
        with pytest.raises(ValueError, match=fragment):
            s.check(layers, channels, with_cov)
    for bad, fragment in [
        (-s.std[3], "negative"),
        (s.std[3].int(), "not floating point"),
        (s.std[3] / 0, "non-finite"),
    ]:
        with pytest.raises(ValueError, match=fragment):
            StyleStats(s.mean, {3: bad}).check()
    with pytest.raises(ValueError, match="unexpected tensor 'evil'"):
        StyleStats.from_state_dict({**s.state_dict(), "evil": torch.zeros(1)})
