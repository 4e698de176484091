import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "meliso",
    deadline=None,
    max_examples=int(os.environ.get("MELISO_HYPOTHESIS_EXAMPLES", "60")),
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("meliso")


# Every figure meliso writes during the tests passes the structural checks of
# meliso.analysis.plots.figure_problems (labelled axes, no empty panel, legends inside the
# figure and off the data): savefig checks a figure the first time it is saved.
import matplotlib  # noqa: E402

matplotlib.use("Agg")
from matplotlib.figure import Figure  # noqa: E402

from meliso.analysis.plots import figure_problems  # noqa: E402

CHECKED_FIGURES: list[str] = []
_savefig = Figure.savefig


def _checked_savefig(self, *args, **kwargs):
    if not getattr(self, "_meliso_checked", False):
        self._meliso_checked = True
        problems = figure_problems(self)
        assert not problems, f"figure {self._suptitle and self._suptitle.get_text()!r}: " + \
            "; ".join(problems)
        CHECKED_FIGURES.append(self._suptitle.get_text() if self._suptitle else "")
    return _savefig(self, *args, **kwargs)


Figure.savefig = _checked_savefig
