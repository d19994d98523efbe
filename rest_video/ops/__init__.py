"""Pure tensor functions: feature statistics, AdaIN, WCT, colour transforms, LUTs."""

from rest_video.ops.stats import adain, adain_affine, covariance, mean_std, wct

__all__ = ["adain", "adain_affine", "covariance", "mean_std", "wct"]
