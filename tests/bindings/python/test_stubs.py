# SPDX-License-Identifier: Apache-2.0
"""quantkit/__init__.pyi matches the runtime: the same public names as the module, every stubbed
class member exists, every public runtime member is stubbed, enum members and values agree."""
import ast
import enum
import os
import types

import pytest

import quantkit as qk

STUB = os.path.join(os.path.dirname(__file__), "..", "..", "..", "bindings", "python", "quantkit", "__init__.pyi")


@pytest.fixture(scope="module")
def stub():
    with open(STUB, encoding="utf-8") as f:
        return ast.parse(f.read(), filename=STUB)


def _top_names(tree):
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef)):
            names.add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.ImportFrom) and node.module is None:  # "from . import core as core"
            names.update(a.asname or a.name for a in node.names)
    return {n for n in names if not n.startswith("_")}


def _runtime_public():
    out = set()
    for name in dir(qk):
        if name.startswith("_"):
            continue
        obj = getattr(qk, name)
        if isinstance(obj, types.ModuleType) and name != "core":
            continue
        if getattr(obj, "__module__", None) == "typing" or type(obj).__name__ == "_Feature":
            continue  # typing helpers and `from __future__ import annotations`
        out.add(name)
    return out


def _classes(tree):
    return {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)}


def _members(cls, classes):
    """Names a stub class declares, with those of its stubbed bases."""
    names = set()
    for node in cls.body:
        if isinstance(node, ast.FunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    for base in cls.bases:
        if isinstance(base, ast.Name) and base.id in classes:
            names |= _members(classes[base.id], classes)
    return names


def test_stub_parses_and_has_the_module_names(stub):
    assert _top_names(stub) == _runtime_public()
    assert _top_names(stub) == set(qk.__all__) | {"core"}
    assert all(hasattr(qk, n) for n in qk.__all__)


def test_stub_classes_match_runtime_members(stub):
    classes = _classes(stub)
    checked = 0
    for name, node in classes.items():
        if name.startswith("_"):
            continue
        runtime = getattr(qk, name)
        declared = _members(node, classes)
        probe = runtime(1, "probe") if issubclass(runtime, BaseException) else runtime  # instance attributes
        missing = {m for m in declared if not hasattr(probe, m)}
        assert not missing, f"{name}: stubbed but not at runtime: {sorted(missing)}"
        if issubclass(runtime, (BaseException, enum.Enum)):
            continue
        public = {m for m in dir(runtime) if not m.startswith("_")}
        # get_x() accessors whose property x is stubbed need no entry of their own.
        unstubbed = {m for m in public - declared if not (m.startswith("get_") and m[4:] in declared)}
        assert not unstubbed, f"{name}: public at runtime but not in the stub: {sorted(unstubbed)}"
        checked += 1
    assert checked >= 13


def test_stub_enums_match_runtime_values(stub):
    for name, node in _classes(stub).items():
        runtime = getattr(qk, name, None)
        if not (isinstance(runtime, type) and issubclass(runtime, enum.Enum)):
            continue
        stubbed = {t.targets[0].id: ast.literal_eval(t.value) for t in node.body if isinstance(t, ast.Assign)}
        assert stubbed == {m.name: m.value for m in runtime}, name
