"""rest_video.style: StyleStats round trip, the disk cache and its key, and the Stylizer's use of it."""

import torch

from rest_video import Stylizer, load_pipeline
from rest_video.style import StyleCache, StyleStats, cache_key, file_hash


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
    import rest_video.engine.stylizer as stylizer_module

    st = Stylizer(load_pipeline(None, {"model.checkpoint": str(random_weights), "runtime.device": "cpu"}),
                  cache=StyleCache(tmp_path))
    first = st.load_style(style_image)
    assert len(list(tmp_path.iterdir())) == 1
    monkeypatch.setattr(stylizer_module, "read_image", lambda *a, **k: (_ for _ in ()).throw(AssertionError))
    again = st.load_style(style_image)                           # from the cache: no decode, no resize
    assert torch.equal(again.mean[3], first.mean[3])
