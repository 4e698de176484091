import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "meliso",
    deadline=None,
    max_examples=int(os.environ.get("MELISO_HYPOTHESIS_EXAMPLES", "60")),
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("meliso")
