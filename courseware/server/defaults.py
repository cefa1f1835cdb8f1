"""Where ``courseware serve`` listens unless told otherwise (a module light enough for the CLI to import)."""

DEFAULT_PORT = 5006
DEFAULT_ADDRESS = "127.0.0.1"  # this machine only: a public address is a deliberate choice
