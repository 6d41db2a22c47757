"""The organiser area wires itself: every module that adds pages to it has its rules in the app."""

from __future__ import annotations

import ast
import pkgutil
from pathlib import Path
from types import ModuleType

import pytest

import webinar.organiser
import webinar.support
from webinar import create_app

#: a blueprint's methods that add a URL rule
RULE_DECORATORS = {"route", "get", "post", "put", "patch", "delete"}


def adds_rules(source: str) -> bool:
    """Whether a module's source decorates a function with `<something>bp.get(...)` and the like."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for decorator in node.decorator_list:
                call = decorator.func if isinstance(decorator, ast.Call) else decorator
                if (isinstance(call, ast.Attribute) and call.attr in RULE_DECORATORS
                        and isinstance(call.value, ast.Name) and call.value.id.endswith("bp")):
                    return True
    return False


def route_modules(package: ModuleType) -> list[str]:
    """The package's modules that add URL rules, found by reading their source (not by importing them)."""
    folder = Path(package.__file__).parent
    return [
        f"{package.__name__}.{info.name}"
        for info in pkgutil.iter_modules([str(folder)])
        if not info.ispkg and adds_rules((folder / f"{info.name}.py").read_text(encoding="utf-8"))
    ]


ROUTE_MODULES = route_modules(webinar.organiser) + route_modules(webinar.support)


def test_the_organiser_and_support_packages_have_route_modules():
    assert "webinar.organiser.views" in ROUTE_MODULES and "webinar.support.organiser" in ROUTE_MODULES
    assert len(ROUTE_MODULES) >= 9


@pytest.mark.parametrize("module", ROUTE_MODULES)
def test_every_route_module_contributes_rules_to_the_app(module):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    wired = {app.view_functions[rule.endpoint].__module__ for rule in app.url_map.iter_rules()}
    assert module in wired, f"{module} adds routes but is not imported by its package's __init__.py"


def test_a_module_with_routes_is_recognised_and_one_without_is_not():
    assert adds_rules('@bp.get("/x")\ndef x():\n    pass\n')
    assert adds_rules('@organiser_bp.route("/x", methods=["GET", "POST"])\ndef x():\n    pass\n')
    assert not adds_rules('@bp.before_app_request\ndef guard():\n    pass\n')
    assert not adds_rules("def helper():\n    return 1\n")
