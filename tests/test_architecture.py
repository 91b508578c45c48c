"""The shape of the code, as `.importlinter` and `consult.web` state it (issue 10).

- the import contracts hold, and a deliberately wrong import breaks them (each kind of wrong
  import, tried on a copy of the package);
- the contract names every top-level module, so a new one cannot slip past the layers;
- every view that accepts a POST goes through the one commit point (`consult.web.commits`);
- no function-level import of the project is left to dodge a cycle: the few that remain are
  listed here with their reason.
"""

from __future__ import annotations

import ast
import configparser
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
CONTRACT = ROOT / ".importlinter"


def _lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(cwd / ".importlinter"), "--no-cache"], cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(cwd)}, capture_output=True, text=True, timeout=600,
    )


@pytest.fixture(scope="module")
def package_copy(tmp_path_factory):
    """A copy of the package and its contract, to break on purpose."""
    def copy(name: str) -> Path:
        target = tmp_path_factory.mktemp(name)
        shutil.copytree(ROOT / "consult", target / "consult",
                        ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copy(CONTRACT, target / ".importlinter")
        return target
    return copy


def test_the_import_contracts_hold():
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


# Each: (file, an import it must never have, the contract that refuses it).
WRONG_IMPORTS = [
    # a lower domain calling a higher one (the fault issue 10 removed: "is the report out?")
    ("consult/comments/services.py", "from consult.answers.services import published_report",
     "consult.comments is not allowed to import consult.answers"),
    # the core reaching into a domain
    ("consult/mail.py", "from consult.consultations.models import State",
     "consult.mail is not allowed to import consult.consultations"),
    # a domain's model importing a read model above it
    ("consult/consultations/models.py", "from consult import workspace",
     "consult.consultations is not allowed to import consult.workspace"),
    # one domain's views importing another's
    ("consult/policies/views/public.py", "from consult.consultations.views.public import detail",
     "Illegal imports of protected package consult.consultations.views"),
    # a service importing a view
    ("consult/answers/services.py", "from consult.answers.views.manage import PER_PAGE",
     "Illegal imports of protected package consult.answers.views"),
    # a page using another domain's form
    ("consult/main/views.py", "from consult.comments.forms import LookupForm",
     "Illegal imports of protected package consult.comments.forms"),
]


@pytest.mark.parametrize("path, line, broken", WRONG_IMPORTS,
                         ids=[w[0].removeprefix("consult/") for w in WRONG_IMPORTS])
def test_a_wrong_import_breaks_the_contract(package_copy, path, line, broken):
    copy = package_copy("wrong")
    with (copy / path).open("a", encoding="utf-8") as fh:
        fh.write(f"\n{line}  # noqa: E402,F401\n")
    result = _lint_imports(copy)
    assert result.returncode != 0
    assert broken in result.stdout, result.stdout


def _layer_modules() -> set[str]:
    config = configparser.ConfigParser()
    config.read(CONTRACT, encoding="utf-8")
    layers = config["importlinter:contract:layers"]["layers"]
    return {name.strip() for name in re.split(r"[\n|:]", layers) if name.strip()}


def test_the_contract_places_every_top_level_module():
    """A module the layers do not name would be outside every rule."""
    package = ROOT / "consult"
    modules = {f"consult.{p.stem}" for p in package.glob("*.py") if p.stem != "__init__"}
    modules |= {f"consult.{p.parent.name}" for p in package.glob("*/__init__.py")}
    assert modules - _layer_modules() == set()
    assert _layer_modules() - modules == set()


def test_every_post_view_goes_through_the_commit_point(app):
    """A state-changing view without `@commits` would lose its work (or commit after the
    response): every endpoint that accepts POST (or PUT, PATCH, DELETE) is wrapped."""
    unwrapped = sorted(
        rule.endpoint for rule in app.url_map.iter_rules()
        if rule.methods & {"POST", "PUT", "PATCH", "DELETE"}
        and not getattr(app.view_functions[rule.endpoint], "commits", False)
    )
    assert unwrapped == []
    assert len([r for r in app.url_map.iter_rules() if "POST" in r.methods]) > 40


# Function-level imports of the project that stay, and why: none of them dodges a cycle.
LAZY_IMPORTS = {
    # create_app is the composition root: importing the blueprints, models and receivers when
    # the app is built keeps `import consult.clock` (tests, tools) from loading the whole app.
    "consult/__init__.py": "composition root",
    # Commands import what they run when they run: a web worker never loads the demo data set
    # (900 lines), the backup code or the digest.
    "consult/cli.py": "commands load their code when run",
}


def test_no_function_level_import_dodges_a_cycle():
    found = {}
    for path in sorted((ROOT / "consult").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        types_only = {id(child) for block in ast.walk(tree)
                      if isinstance(block, ast.If) and getattr(block.test, "id", "") ==
                      "TYPE_CHECKING" for child in ast.walk(block)}
        for node in ast.walk(tree):
            if not isinstance(node, ast.ImportFrom | ast.Import) or node.col_offset == 0:
                continue
            module = node.module if isinstance(node, ast.ImportFrom) else node.names[0].name
            if (module or "").startswith("consult") and id(node) not in types_only:
                found.setdefault(str(path.relative_to(ROOT)), []).append(node.lineno)
    assert set(found) <= set(LAZY_IMPORTS), {k: v for k, v in found.items()
                                             if k not in LAZY_IMPORTS}
