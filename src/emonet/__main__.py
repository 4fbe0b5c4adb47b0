"""``python -m emonet`` runs the command line."""

from emonet.cli import main

main()
