"""Compatibility facades: reproduce other simulators' numbers with meliso's components."""
