"""`python -m imglint` runs the command line."""

from imglint.cli import main

raise SystemExit(main())
