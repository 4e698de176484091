"""Analysis beside the pipeline: statistics of error populations (reads results only)."""

from .stats import STAT_KEYS, summarize, tail_share

__all__ = ["STAT_KEYS", "summarize", "tail_share"]
