"""``python -m meliso``: the command line."""

from .cli import main

main()
