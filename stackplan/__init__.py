"""stackplan: declarative provisioning for OpenStack clouds, driven by YAML.

The library API lives in `stackplan.workflow`; the command line in `stackplan.cli`.
Kept free of imports so that `stackplan --help` starts fast.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
