"""Issue 17's structural rules, and the docs that describe them, kept true.

Read from the source (``ast``), not by importing it, so that the optional
subpackages (server, Dask) are checked without their extras.
"""

from __future__ import annotations

import ast
import dataclasses
import re
from pathlib import Path

from kedro_runtime import SessionOptions
from kedro_runtime.server import settings as server_settings

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "kedro_runtime"
LOCK_FACTORIES = {"Lock", "RLock", "Condition"}


def modules() -> dict[str, ast.Module]:
    """Every module of the package, by its path from the package's folder."""
    return {
        path.relative_to(PACKAGE).as_posix(): ast.parse(path.read_text("utf-8"))
        for path in sorted(PACKAGE.rglob("*.py"))
    }


def is_lock_factory(node: ast.AST) -> bool:
    """``threading.Lock`` (or ``RLock``, ``Condition``), or the bare name."""
    name = node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", None)
    return name in LOCK_FACTORIES


def lock_sites(tree: ast.Module) -> list[ast.AST]:
    """Where a module makes a lock: ``Lock()`` calls and ``default_factory=Lock``."""
    sites: list[ast.AST] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and is_lock_factory(node.func):
            sites.append(node)
        elif isinstance(node, ast.keyword) and node.arg == "default_factory":
            if is_lock_factory(node.value):
                sites.append(node)
    return sites


def module_level_locks(tree: ast.Module) -> list[str]:
    """The names a module binds to a new lock at module level."""
    names = []
    for statement in tree.body:
        if isinstance(statement, ast.Assign | ast.AnnAssign) and statement.value:
            value = statement.value
            if isinstance(value, ast.Call) and is_lock_factory(value.func):
                targets = (
                    statement.targets
                    if isinstance(statement, ast.Assign)
                    else [statement.target]
                )
                names += [t.id for t in targets if isinstance(t, ast.Name)]
    return names


def concurrency_section() -> str:
    text = (ROOT / "docs" / "design.md").read_text("utf-8")
    return text.split("## Concurrency", 1)[1].split("\n## ", 1)[0]


def test_at_most_two_module_level_locks_the_ones_of_kedros_globals() -> None:
    found = {
        f"{path}:{name}"
        for path, tree in modules().items()
        for name in module_level_locks(tree)
    }
    assert found == {"registry.py:REGISTRY_LOCK", "_kedro_private.py:CONFIG_LOCK"}


def test_no_context_variable_hands_state_around() -> None:
    users = [
        path
        for path in PACKAGE.rglob("*.py")
        if re.search(r"ContextVar|contextvars", path.read_text("utf-8"))
    ]
    assert users == []


def test_design_md_names_every_module_that_makes_a_lock() -> None:
    section = concurrency_section()
    documented = set(re.findall(r"\| `(?:kedro_runtime/)?([\w/]+\.py)` \|", section))
    making = {path for path, tree in modules().items() if lock_sites(tree)}
    assert making == documented
    assert "`REGISTRY_LOCK`" in section
    assert "`CONFIG_LOCK`" in section


def test_options_md_lists_every_session_option() -> None:
    text = (ROOT / "docs" / "options.md").read_text("utf-8")
    missing = [
        field.name
        for field in dataclasses.fields(SessionOptions)
        if f"`SessionOptions.{field.name}`" not in text
        or f"`create({field.name}=)`" not in text
    ]
    assert missing == []


def test_options_md_lists_every_environment_variable_of_the_server() -> None:
    text = (ROOT / "docs" / "options.md").read_text("utf-8")
    variables = {
        value
        for name, value in vars(server_settings).items()
        if name.endswith("_ENV") and isinstance(value, str)
    }
    assert len(variables) >= 10
    assert sorted(v for v in variables if f"`{v}`" not in text) == []


def test_options_md_lists_every_settings_py_name_and_metadata_key() -> None:
    text = (ROOT / "docs" / "options.md").read_text("utf-8")
    settings_names = set()
    metadata_keys = set()
    for tree in modules().values():
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Assign)
                and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)
                and node.targets[0].id.endswith("_SETTING")
                and isinstance(node.value, ast.Constant)
            ):
                settings_names.add(node.value.value)
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "get"
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "options"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                metadata_keys.add(node.args[0].value)
    assert {"ALLOWED_CATALOG_RUNTIME_PARAMS", "RUN_SCOPES"} <= settings_names
    assert {"preload", "copy_mode", "decode"} <= metadata_keys
    assert [n for n in sorted(settings_names) if f"`settings.{n}`" not in text] == []
    assert [
        k
        for k in sorted(metadata_keys)
        if f"`metadata: kedro_runtime: {k}:`" not in text
    ] == []
