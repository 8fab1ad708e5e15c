"""``python -m bnpl.cli``."""

from bnpl.cli import main

main()
