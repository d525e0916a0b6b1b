"""The command line: a thin typer layer over `stackplan.workflow`."""
