"""HTTP route templates like the host's: {param}, {param?}, {param=default}, {param:int}, {*rest}."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import unquote

from localrun.config import ConfigurationError

TOKEN = re.compile(r"\{([^{}]+)\}")
CONSTRAINTS = {
    "int": r"-?\d+",
    "long": r"-?\d+",
    "bool": r"(?i:true|false)",
    "alpha": r"[A-Za-z]+",
    "guid": r"\{?[0-9A-Fa-f]{8}-?(?:[0-9A-Fa-f]{4}-?){3}[0-9A-Fa-f]{12}\}?",
    "double": r"-?\d+(?:\.\d+)?",
    "float": r"-?\d+(?:\.\d+)?",
    "decimal": r"-?\d+(?:\.\d+)?",
    "datetime": r"[^/]+",
}
# Segment kinds, most specific first: the order routes are tried in when several match.
LITERAL, COMPLEX, CONSTRAINED, PARAMETER, OPTIONAL, CATCH_ALL = range(6)


class NotFound(LookupError):
    """No route matches the path."""


class MethodNotAllowed(LookupError):
    """Routes match the path but none accepts the method."""

    def __init__(self, allow: Iterable[str]) -> None:
        self.allow = sorted(set(allow))
        super().__init__(", ".join(self.allow))


@dataclass(frozen=True)
class _Parameter:
    name: str
    group: str
    pattern: str
    optional: bool
    catch_all: bool
    default: str | None


def _parameter(text: str, group: str, where: str) -> _Parameter:
    catch_all = text.startswith("*")
    text = text.lstrip("*")
    name, _, default = text.partition("=")
    optional = name.endswith("?") or catch_all or bool(default)
    name = name.rstrip("?")
    name, *constraints = name.split(":")
    pattern = ".*" if catch_all else r"[^/]+"
    for constraint in constraints:
        if constraint not in CONSTRAINTS:
            raise ConfigurationError(
                f"{where}: route constraint '{constraint}' is not supported by the local runner "
                f"(supported: {', '.join(CONSTRAINTS)})"
            )
        pattern = CONSTRAINTS[constraint]
    return _Parameter(name, group, pattern, optional, catch_all, default or None)


@dataclass(frozen=True)
class Route:
    """One HTTP function's route, compiled with the route prefix."""

    function: str
    template: str
    methods: frozenset[str] | None
    regex: re.Pattern[str] = field(compare=False)
    parameters: tuple[_Parameter, ...] = field(compare=False)
    precedence: tuple[int, ...] = field(compare=False)

    @classmethod
    def compile(cls, function: str, route: str, prefix: str, methods: Iterable[str] | None) -> Route:
        template = "/".join(part for part in (prefix.strip("/"), route.strip("/")) if part)
        where = f"route '{route}' of function '{function}'"
        pattern, parameters, precedence = "^", [], []
        for segment in template.split("/") if template else []:
            tokens = TOKEN.split(segment)  # literal, parameter, literal, parameter, ..., literal
            if len(tokens) == 1:
                pattern += "/" + re.escape(segment)
                precedence.append(LITERAL)
                continue
            params = [_parameter(t, f"p{len(parameters) + i}", where) for i, t in enumerate(tokens[1::2])]
            parameters.extend(params)
            whole = len(tokens) == 3 and tokens[0] == tokens[2] == ""
            if whole and params[0].optional:
                pattern += f"(?:/(?P<{params[0].group}>{params[0].pattern}))?"
                precedence.append(CATCH_ALL if params[0].catch_all else OPTIONAL)
                continue
            pattern += "/"
            for i, token in enumerate(tokens):
                if i % 2 == 0:
                    pattern += re.escape(token)
                else:
                    param = params[i // 2]
                    pattern += f"(?P<{param.group}>{param.pattern})"
            if whole:
                precedence.append(CONSTRAINED if params[0].pattern != r"[^/]+" else PARAMETER)
            else:
                precedence.append(COMPLEX)
        regex = re.compile(pattern + "/?$", re.IGNORECASE)
        allowed = frozenset(m.upper() for m in methods) if methods else None
        return cls(function, template, allowed, regex, tuple(parameters), tuple(precedence))

    def match(self, path: str) -> dict[str, str] | None:
        """Route parameters (URL-decoded) if the path matches, else None."""
        found = self.regex.match(path)
        if found is None:
            return None
        values = {}
        for param in self.parameters:
            value = found.group(param.group)
            if value is not None and value != "":
                values[param.name] = unquote(value)
            elif param.default is not None:
                values[param.name] = param.default
        return values


class RouteTable:
    """All routes, tried most specific first."""

    def __init__(self, routes: Iterable[Route]) -> None:
        self.routes = sorted(routes, key=lambda r: r.precedence)
        seen: dict[tuple[str, frozenset[str] | None], str] = {}
        for route in self.routes:
            key = (route.regex.pattern, route.methods)
            if key in seen:
                raise ConfigurationError(
                    f"functions '{seen[key]}' and '{route.function}' have the same route '{route.template}'"
                )
            seen[key] = route.function

    def resolve(self, path: str, method: str) -> tuple[Route, dict[str, str]]:
        """The route for a request path (without the query) and method, with its parameters."""
        allow: list[str] = []
        for route in self.routes:
            params = route.match(path)
            if params is None:
                continue
            if route.methods is None or method in route.methods:
                return route, params
            allow.extend(route.methods)
        if allow:
            raise MethodNotAllowed(allow)
        raise NotFound(path)
