"""``python -m courseware``: the same as the ``courseware`` command."""

from courseware.cli import main

main()
