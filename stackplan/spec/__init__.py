"""Specs: what the user wrote, loaded with positions, validated, expanded into desired resources.

Entry points: `load.read_yaml_file`, `validate.schema_problems`, `variables.resolve_variables`,
`expand.expand`, `graph.dependency_graph` (and `source.load_desired`, which chains them).
Nothing is re-exported here, so that importing `stackplan.spec` stays cheap for the CLI.
"""

from pathlib import Path

DEFAULT_SPEC = Path("stackplan.yaml")  # in the working directory, when -f is not given
