"""Chowdhury et al. 2024 (MELISO): the VMM error study (`meliso reproduce meliso`)."""
