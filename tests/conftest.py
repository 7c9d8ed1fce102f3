"""Shared test configuration: Hypothesis runs derandomized, so every run (and CI) draws the
same examples and a failure is reproducible with the same command."""

from hypothesis import settings

settings.register_profile("linnet", derandomize=True, deadline=None, print_blob=True)
settings.load_profile("linnet")
