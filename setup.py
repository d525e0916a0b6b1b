"""Ships `schemas/` (the published JSON Schemas, kept at the top of the repository) inside
the built package, so that an installed stackplan (pip, a wheel, pipx) can read them."""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildWithSchemas(build_py):
    def run(self) -> None:
        super().run()
        target = Path(self.build_lib) / "stackplan" / "schemas"
        target.mkdir(parents=True, exist_ok=True)
        for path in sorted(Path(__file__).parent.joinpath("schemas").glob("*.schema.json")):
            (target / path.name).write_bytes(path.read_bytes())


setup(cmdclass={"build_py": BuildWithSchemas})
