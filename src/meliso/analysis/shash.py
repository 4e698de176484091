"""The sinh-arcsinh (SHASH) distribution of Jones & Pewsey (Biometrika 96(4), 761-780, 2009).

If Z ~ Normal(0, 1), then Y = sinh((asinh(Z) + epsilon) / delta) is standard SHASH(epsilon, delta):
``epsilon`` (any real) sets the skewness, ``delta > 0`` the tail weight (delta < 1 heavier than
normal, delta > 1 lighter); epsilon = 0, delta = 1 is the standard normal. With
S(y) = sinh(delta asinh(y) - epsilon) and C(y) = cosh(delta asinh(y) - epsilon),

    f(y) = delta C(y) / sqrt(2 pi (1 + y^2)) exp(-S(y)^2 / 2),   F(y) = Phi(S(y)),
    F^-1(q) = sinh((asinh(Phi^-1(q)) + epsilon) / delta),

and ``loc``/``scale`` act as in every ``scipy.stats`` distribution.
"""

from __future__ import annotations

import numpy as np
from scipy import special
from scipy.stats import rv_continuous

_LOG_SQRT_2PI = 0.5 * np.log(2 * np.pi)


def _log_cosh(t: np.ndarray) -> np.ndarray:
    a = np.abs(t)
    return a + np.log1p(np.exp(-2 * a)) - np.log(2.0)


class shash_gen(rv_continuous):
    """Jones-Pewsey sinh-arcsinh distribution; shape parameters ``epsilon`` and ``delta``."""

    def _argcheck(self, epsilon, delta):
        return np.isfinite(epsilon) & (delta > 0)

    def _logpdf(self, y, epsilon, delta):
        t = delta * np.arcsinh(y) - epsilon
        s = np.sinh(t)
        return (np.log(delta) + _log_cosh(t) - _LOG_SQRT_2PI - 0.5 * np.log1p(y * y)
                - 0.5 * s * s)

    def _pdf(self, y, epsilon, delta):
        return np.exp(self._logpdf(y, epsilon, delta))

    def _cdf(self, y, epsilon, delta):
        return special.ndtr(np.sinh(delta * np.arcsinh(y) - epsilon))

    def _sf(self, y, epsilon, delta):
        return special.ndtr(-np.sinh(delta * np.arcsinh(y) - epsilon))

    def _ppf(self, q, epsilon, delta):
        return np.sinh((np.arcsinh(special.ndtri(q)) + epsilon) / delta)

    def _isf(self, q, epsilon, delta):
        return np.sinh((np.arcsinh(-special.ndtri(q)) + epsilon) / delta)


shash = shash_gen(name="shash")
