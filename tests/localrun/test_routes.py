"""Route templates: parameters, constraints, optional and catch-all segments, precedence, errors."""

from __future__ import annotations

import pytest

from localrun.config import ConfigurationError
from localrun.routes import MethodNotAllowed, NotFound, Route, RouteTable


def _table(*routes: tuple[str, str, list[str] | None]) -> RouteTable:
    return RouteTable(Route.compile(name, template, "api", methods) for name, template, methods in routes)


def test_parameters_with_constraint_default_and_complex_segment():
    route = Route.compile("f", "files/{name}.{ext}", "api", None)
    assert route.match("/api/files/a.b.csv") == {"name": "a.b", "ext": "csv"}
    assert Route.compile("g", "page/{n:int=1}", "api", None).match("/api/page") == {"n": "1"}
    assert Route.compile("g", "page/{n:int=1}", "api", None).match("/api/page/x") is None
    assert Route.compile("h", "Series/{id:alpha}", "api", None).match("/API/series/Total/") == {"id": "Total"}


def test_precedence_literal_then_parameter_then_catch_all():
    table = _table(("all", "{*rest}", None), ("one", "items/{id}", None), ("lit", "items/new", None))
    assert table.resolve("/api/items/new", "GET")[0].function == "lit"
    assert table.resolve("/api/items/7", "GET") == (table.routes[1], {"id": "7"})
    assert table.resolve("/api/other/deep/path", "GET")[1] == {"rest": "other/deep/path"}
    assert table.resolve("/api", "GET")[1] == {}


def test_methods_and_misses():
    table = _table(("get", "x", ["GET"]), ("post", "x", ["POST", "PUT"]))
    assert table.resolve("/api/x", "PUT")[0].function == "post"
    with pytest.raises(MethodNotAllowed) as excinfo:
        table.resolve("/api/x", "DELETE")
    assert excinfo.value.allow == ["GET", "POST", "PUT"]
    with pytest.raises(NotFound):
        table.resolve("/api/y", "GET")


def test_empty_prefix_and_route():
    assert Route.compile("root", "", "", None).match("/") == {}


def test_unsupported_constraint_and_duplicate_route_are_refused():
    with pytest.raises(ConfigurationError, match="constraint 'min\\(1\\)'"):
        Route.compile("f", "items/{id:min(1)}", "api", None)
    with pytest.raises(ConfigurationError, match="'a' and 'b' have the same route"):
        _table(("a", "same/{x}", None), ("b", "same/{y}", None))
