"""Exit codes of the public contract (DESIGN.md)."""

OK = 0
ERROR = 1
CHANGES = 2  # only with --detailed-exitcode
INTERRUPTED = 130
