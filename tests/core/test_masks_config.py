import pytest

from rest_video.core.config import load_pipeline
from rest_video.core.errors import ConfigError


def test_masks_section_defaults_and_overrides():
    cfg = load_pipeline(None)
    assert (cfg.masks.feather, cfg.masks.min_region, cfg.masks.protect) == (8.0, 1024, None)
    cfg = load_pipeline(None, {"masks.feather": 0, "masks.min_region": 64, "masks.protect": "light-blue"})
    assert (cfg.masks.feather, cfg.masks.min_region, cfg.masks.protect) == (0.0, 64, "light-blue")


@pytest.mark.parametrize("key,value,msg", [("masks.feather", -1, "masks.feather"),
                                           ("masks.min_region", 0, "masks.min_region"),
                                           ("masks.protect", "orange", "masks.protect"),
                                           ("masks.colour", 1, "unknown config key 'masks.colour'")])
def test_bad_masks_values_name_the_key(key, value, msg):
    with pytest.raises(ConfigError, match=msg):
        load_pipeline(None, {key: value})
