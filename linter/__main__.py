"""`python -m imglint` runs the command line."""

from imglint.cli import run

run()
