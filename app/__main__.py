"""`python -m app ...` is the `leadsieve` command (used by `make run` before the script is on PATH)."""

from app.cli import main

main()
