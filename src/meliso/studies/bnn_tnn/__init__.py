"""Cubero-Cascante et al. 2025: BNN/TNN CNNs on binary 1T1R crossbars (`meliso reproduce cim`)."""
