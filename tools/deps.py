"""Print lowprec's requirements (and those of the extras named as arguments) from pyproject.toml,
one per line, so that the Makefile can install them while the compiled extensions build;
``--build``: the build requirements instead, with the cmake and ninja that the build then uses."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path


def main(extras: list[str]) -> None:
    meta = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    if extras == ["--build"]:
        print("\n".join([*meta["build-system"]["requires"], "cmake>=3.18", "ninja"]))
        return
    project = meta["project"]
    reqs = list(project["dependencies"])
    for name in extras:
        reqs += project["optional-dependencies"][name]
    print("\n".join(dict.fromkeys(reqs)))


if __name__ == "__main__":
    main(sys.argv[1:])
