"""REST models and the registry that creates them."""

from rest_video.models.registry import (
    WeightsCfg,
    create_model,
    list_models,
    load_checkpoint,
    load_weights,
    save_weights,
    shipped_weights,
    weights_identity,
)
from rest_video.models.rest import (
    REST,
    RESTConfig,
    RPConvBlock,
    RPDecoder,
    RPEncoder,
    StyleStats,
    check_image,
)

__all__ = [
    "REST",
    "RESTConfig",
    "RPConvBlock",
    "RPDecoder",
    "RPEncoder",
    "StyleStats",
    "WeightsCfg",
    "check_image",
    "create_model",
    "list_models",
    "load_checkpoint",
    "load_weights",
    "save_weights",
    "shipped_weights",
    "weights_identity",
]
