"""Resource kinds: one module per kind behind the `Kind` interface of `base.py`."""
