"""Shared test settings: hypothesis runs a fixed, derandomised set of examples unless
HYPOTHESIS_PROFILE=explore asks for fresh ones."""

import os

import pytest
from built_wheel import InstalledWheel, install_wheel
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("explore", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session")
def installed_wheel(tmp_path_factory: pytest.TempPathFactory) -> InstalledWheel:
    """The wheel, built once and installed into a fresh venv (see tests/built_wheel.py)."""
    return install_wheel(tmp_path_factory.mktemp("wheel"))
