"""REST models and the registry that creates them."""

from rest_video.models._registry import (
    WeightsCfg,
    create_model,
    list_models,
    load_checkpoint,
    save_weights,
    weights_identity,
)
from rest_video.models.rest import REST, RESTConfig, RPConvBlock, RPDecoder, RPEncoder, StyleStats

__all__ = [
    "REST",
    "RESTConfig",
    "RPConvBlock",
    "RPDecoder",
    "RPEncoder",
    "StyleStats",
    "WeightsCfg",
    "create_model",
    "list_models",
    "load_checkpoint",
    "save_weights",
    "weights_identity",
]
