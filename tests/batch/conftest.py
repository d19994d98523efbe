import pytest

from rest_video.core.config import load_pipeline


@pytest.fixture
def batch_cfg(random_weights):
    """Lossless output (crf 0), so decoded frames of two runs compare exactly."""
    return load_pipeline(None, {"model.checkpoint": str(random_weights), "output.preset": "ultrafast",
                                "output.crf": 0})


@pytest.fixture(scope="session")
def ray_local():
    """One local Ray instance for the whole session (2 CPUs, no dashboard), shut down at the end."""
    ray = pytest.importorskip("ray")
    if not ray.is_initialized():
        ray.init(num_cpus=2, include_dashboard=False, configure_logging=False, log_to_driver=False)
    yield ray
    ray.shutdown()
