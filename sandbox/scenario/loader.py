"""Read a scenario file (format v1 or v2), check it, and turn it into the model's dataclasses.

The YAML is composed into a node tree rather than loaded directly so that every key and
value keeps its line; the JSON Schema in scenarios/schema.json does the structural
checks, `_checks` the world's cross-references and the funds analysis, and `_course`
the course sections of format v2 (seats, objectives, injects, artefacts). Every problem found
is collected and raised together in one ScenarioError.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import importlib.resources
import json
import math
import os
import pathlib
import re
from collections.abc import Mapping
from typing import Any

import jsonschema
import yaml

from ..errors import Problem, SandboxError, ScenarioError
from ._checks import BACKGROUND_ID, TRAINEES_ID, Path, commission_market, dotted, suggest
from ._course import DEFAULT_WALLET, default_compare, find_problems
from .i18n import language_problems
from .model import (
    CHAIN_ASSETS,
    CLEARNET_KINDS,
    Actor,
    Amount,
    Artefact,
    Channel,
    DonationBot,
    Flow,
    ForumBoard,
    ForumThread,
    Hint,
    Inject,
    Meta,
    Objective,
    Ref,
    Said,
    Scenario,
    Seats,
    Site,
    TronWallet,
    WorldKnobs,
)

__all__ = [
    "BACKGROUND_ID",
    "TRAINEES_ID",
    "VERSIONS",
    "builtin_scenarios",
    "load_scenario",
    "resolve_scenario",
    "resolve_solution",
]

# Aliases let a tiny file expand into an enormous tree; refuse beyond this many values.
_MAX_VALUES = 200_000
_ID_PATTERN = "^[a-z0-9_-]+$"
_REF_PATTERN = "^(\\$[a-z][a-z0-9_]*|[a-z0-9_-]+)$"
_PERCENT_PATTERN = "^[0-9]+(\\.[0-9]+)?%$"
_LANGUAGE_PATTERN = "^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"
VERSIONS = (1, 2)
_EMPTY = "the file is empty; a scenario needs at least meta: {title: ...} and an exchange"
_SECTION_ORDER = ("version", "meta", "world", "actors", "sites", "flows", "objectives", "...")
_NOUNS = {
    "role": "role",
    "kind": "kind",
    "opsec": "OPSEC trait",
    "mistakes": "site mistake",
    "currencies": "currency",
    "compare": "comparison",
    "action": "inject action",
}


class _Loader(yaml.SafeLoader):
    """SafeLoader that also reads `1e-3` as a number, as YAML 1.2 and JSON do."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$"),
    list("-+0123456789."),
)


def _scenarios_dir() -> pathlib.Path:
    """The directory of the `scenarios` package, which holds the built-in files."""
    return pathlib.Path(str(importlib.resources.files("scenarios")))


def builtin_scenarios() -> list[str]:
    """Names of the built-in scenarios, e.g. ["default"]."""
    return sorted(p.stem for p in _scenarios_dir().glob("*.yaml"))


def resolve_scenario(name_or_path: str | os.PathLike | None) -> pathlib.Path:
    """The file a scenario argument stands for: a path, a built-in name, or the default."""
    if name_or_path is None:
        return _scenarios_dir() / "default.yaml"
    text = os.fspath(name_or_path)
    path = pathlib.Path(text)
    if text.strip() and path.exists():
        return path
    names = builtin_scenarios()
    bare = text.removesuffix(".yaml")
    if text.strip() and "/" not in text and os.sep not in text and bare in names:
        return _scenarios_dir() / f"{bare}.yaml"
    message = f"no such file or built-in scenario: {text} (built-in: {', '.join(names)})"
    raise ScenarioError([Problem(text, 0, "", message)])


def resolve_solution(scenario_file: str | os.PathLike, given: str | None = None) -> str | None:
    """The absolute path of a scenario's reference solution, or None when it has none.

    `given` is the file's `solution:` value, relative to the scenario file's folder;
    without it, `solutions/<scenario name>.py` in the built-in scenarios' folder if that
    file exists.
    """
    path = pathlib.Path(scenario_file)
    if given is not None:
        return str((path.parent / given).resolve())
    default = _scenarios_dir() / "solutions" / f"{path.stem}.py"
    return str(default.resolve()) if default.is_file() else None


def load_scenario(name_or_path: str | os.PathLike | None = None, strict: bool = False) -> Scenario:
    """Read, validate and return a scenario; raise ScenarioError listing every problem.

    Missing translations are kept in the scenario's `warnings`; strict makes them problems.
    """
    path = resolve_scenario(name_or_path)
    file = str(path)
    text = _read_text(path, file)
    tree = _Tree(file)
    tree.compose(text)
    for section in (
        "world",
        "actors",
        "sites",
        "flows",
        "seats",
        "objectives",
        "injects",
        "artefacts",
    ):
        # `actors:` with every entry commented out is an empty section, not a mistake.
        if section in tree.data and tree.data[section] is None:
            del tree.data[section]
    problems = list(tree.problems)
    schema_problems, rejected = _schema_problems(tree)
    problems += schema_problems
    problems += find_problems(tree.data, tree.lines, tree.bad | rejected, file)
    if not problems:
        language_errors, warnings = language_problems(tree.data, tree.lines, file, dotted)
        problems += language_errors + (warnings if strict else [])
    if problems:
        raise ScenarioError(problems)
    return dataclasses.replace(
        _build(tree.data, tree.lines, path), warnings=tuple(sorted(warnings, key=_by_line))
    )


def _by_line(problem: Problem) -> tuple[int, str]:
    """Problems in the file's order."""
    return problem.line, problem.path


def _fail(file: str, line: int, message: str) -> ScenarioError:
    """A ScenarioError with one problem about the file as a whole."""
    return ScenarioError([Problem(file, line, "", message)])


def _read_text(path: pathlib.Path, file: str) -> str:
    """The file's text; a missing, unreadable, non-UTF-8 or empty file is one problem."""
    if path.is_dir():
        raise _fail(file, 0, "is a directory, not a scenario file")
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise _fail(file, 0, "no such file") from None
    except OSError as exc:
        raise _fail(file, 0, f"cannot read the file: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        byte = raw[exc.start]
        message = f"not UTF-8 text (byte 0x{byte:02x}); save the file as UTF-8"
        raise _fail(file, line, message) from None
    if not text.strip():
        raise _fail(file, 0, _EMPTY)
    return text


class _Tree:
    """Plain data from a YAML text, with the line of every key and list item."""

    def __init__(self, file: str):
        """Start with no data for `file`."""
        self.file = file
        self.data: dict = {}
        self.lines: dict[Path, int] = {}
        self.bad: set[Path] = set()
        self.problems: list[Problem] = []
        self._budget = _MAX_VALUES
        self._own: dict[int, set[int]] = {}
        self._constructor = yaml.constructor.SafeConstructor()

    def compose(self, text: str) -> None:
        """Parse `text`; syntax errors and a non-mapping top level raise at once."""
        try:
            root = yaml.compose(text, Loader=_Loader)
        except yaml.MarkedYAMLError as exc:
            raise _fail(self.file, *_syntax(exc)) from None
        except yaml.reader.ReaderError as exc:
            line = text.count("\n", 0, exc.position) + 1
            char = exc.character if isinstance(exc.character, str) else chr(exc.character)
            raise _fail(
                self.file, line, f"invalid YAML: control character {ord(char):#04x} is not allowed"
            ) from None
        except yaml.YAMLError as exc:
            raise _fail(self.file, 0, f"invalid YAML: {exc}") from None
        except RecursionError:
            raise _fail(self.file, 0, "invalid YAML: nested too deeply") from None
        if root is None:
            raise _fail(self.file, 0, _EMPTY)
        self.lines[()] = root.start_mark.line + 1
        if not isinstance(root, yaml.MappingNode):
            got = (
                _describe(self._scalar(root, ())) if isinstance(root, yaml.ScalarNode) else "a list"
            )
            raise _fail(
                self.file,
                root.start_mark.line + 1,
                f"the top level must be a mapping of sections ({', '.join(_SECTION_ORDER)}), "
                f"got {got}",
            )
        try:
            self.data = self._value(root, (), frozenset())
        except _TooBig:
            raise _fail(
                self.file, 0, f"the file expands to more than {_MAX_VALUES} values (aliases?)"
            ) from None
        except RecursionError:
            raise _fail(self.file, 0, "invalid YAML: nested too deeply") from None

    def _problem(self, path: Path, line: int, message: str) -> None:
        """Record a problem found while reading the tree, and hide `path` from later checks."""
        self.problems.append(Problem(self.file, line, dotted(path), message))
        self.bad.add(path)

    def _value(self, node: yaml.Node, path: Path, stack: frozenset[int]):
        """The plain value of `node`, recording lines below `path`."""
        self._budget -= 1
        if self._budget < 0:
            raise _TooBig
        line = node.start_mark.line + 1
        if id(node) in stack:
            where = self.lines.get(path, line)
            self._problem(path, where, "an alias refers to the value it is part of")
            return None
        inner = stack | {id(node)}
        if isinstance(node, yaml.SequenceNode):
            items = []
            for i, item in enumerate(node.value):
                self.lines[path + (i,)] = item.start_mark.line + 1
                items.append(self._value(item, path + (i,), inner))
            return items
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path, inner)
        assert isinstance(node, yaml.ScalarNode)  # YAML has no fourth kind of node
        return self._scalar(node, path)

    def _mapping(self, node: yaml.MappingNode, path: Path, stack: frozenset[int]) -> dict:
        """A mapping's keys (as written) and values; duplicate keys are reported."""
        # Remember which keys were written here before merging; an aliased mapping comes
        # back already flattened.
        own = self._own.setdefault(id(node), {id(key) for key, _ in node.value})
        try:
            self._constructor.flatten_mapping(node)  # resolves `<<: *anchor` merge keys
        except yaml.MarkedYAMLError as exc:
            self._problem(path, *_syntax(exc))
            return {}
        result: dict = {}
        merged: set[str] = set()
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                self._problem(path, line, "a key must be plain text, not a list or mapping")
                continue
            # The key as written, so `on:` or `yes:` stay text instead of becoming booleans.
            key = key_node.value
            if id(key_node) not in own:
                merged.add(key)
            elif key in merged:
                merged.discard(key)  # a key written here overrides the merged one, as in YAML
            elif key in result:
                first = self.lines[path + (key,)]
                self.problems.append(
                    Problem(
                        self.file,
                        line,
                        dotted(path + (key,)),
                        f"duplicate key '{key}' (first given at line {first})",
                    )
                )
            self.lines[path + (key,)] = line
            result[key] = self._value(value_node, path + (key,), stack)
        return result

    def _scalar(self, node: yaml.ScalarNode, path: Path):
        """A scalar as YAML reads it, with dates as ISO text and non-finite numbers refused."""
        line = node.start_mark.line + 1
        try:
            value = self._constructor.construct_object(node, deep=True)
        except yaml.constructor.ConstructorError:
            self._constructor.recursive_objects.clear()  # a failed node would poison its aliases
            self._problem(path, line, f"unsupported YAML tag {node.tag}")
            return None
        except (ValueError, TypeError, OverflowError):
            self._constructor.recursive_objects.clear()
            # An impossible date like 2026-02-30: keep the text so the schema names it.
            return node.value
        if isinstance(value, dt.date):
            return value.isoformat()
        if isinstance(value, float) and not math.isfinite(value):
            self._problem(path, line, f"expected a finite number, got {node.value}")
            return None
        if isinstance(value, bytes | set | list | dict | tuple):
            self._problem(path, line, f"unsupported YAML tag {node.tag}")
            return None
        return value


class _TooBig(SandboxError):
    """The tree grew beyond _MAX_VALUES."""


def _syntax(exc: yaml.MarkedYAMLError) -> tuple[int, str]:
    """Line and message of a YAML syntax error."""
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark else 0
    if exc.context == "expected a single document in the stream":
        return line, "invalid YAML: a scenario is one YAML document, but another one starts here"
    message = f"invalid YAML: {exc.problem or exc.context}"
    if exc.context and exc.problem and exc.context_mark:
        message += f" ({exc.context} at line {exc.context_mark.line + 1})"
    return line, message


@functools.cache
def _validator() -> jsonschema.Draft202012Validator:
    """The validator of scenarios/schema.json, checked once."""
    schema = json.loads((_scenarios_dir() / "schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def _schema_problems(tree: _Tree) -> tuple[list[Problem], set[Path]]:
    """Problems the JSON Schema finds, and the paths they reject."""
    found: dict[tuple[Path, str], Problem] = {}
    for error in _validator().iter_errors(tree.data):
        for path, message in _explain(error):
            if any(path[:depth] in tree.bad for depth in range(len(path) + 1)):
                continue  # already reported while reading the YAML
            line = _line(tree.lines, path)
            found.setdefault((path, message), Problem(tree.file, line, dotted(path), message))
    rejected = {path for path, _ in found}
    return list(found.values()), rejected


def _line(lines: dict[Path, int], path: Path) -> int:
    """The line of `path`, or of its closest ancestor present in the file."""
    while path not in lines and path:
        path = path[:-1]
    return lines.get(path, 1)


def _explain(error: jsonschema.ValidationError) -> list[tuple[Path, str]]:
    """Turn one jsonschema error into (path, message) pairs an instructor can act on."""
    path: Path = tuple(error.absolute_path)
    value: Any = error.instance  # the scenario's own value, whatever YAML made of it
    keyword = error.validator
    rule: Any = error.validator_value  # any JSON value: the schema's own
    schema: Mapping[str, Any] = error.schema if isinstance(error.schema, Mapping) else {}
    if path == ("version",) and keyword in ("enum", "const", "type"):
        readable = " and ".join(str(v) for v in VERSIONS)
        return [
            (path, f"unsupported format version {value!r}; this sandbox reads versions {readable}")
        ]
    if keyword == "additionalProperties":
        allowed = list(schema.get("properties", {}))
        patterns = [re.compile(p) for p in schema.get("patternProperties", {})]
        out = []
        for key in value:
            if key in allowed or any(p.search(key) for p in patterns):
                continue
            hint = suggest(key, allowed)
            extra = ", or x-anything for notes" if patterns else ""
            out.append(
                (path + (key,), f"unknown key '{key}'{hint} (allowed: {', '.join(allowed)}{extra})")
            )
        return out
    if keyword == "required":
        return [(path + (key,), "required but missing") for key in rule if key not in value]
    if keyword == "anyOf":
        return _explain_any_of(error)
    if keyword == "type":
        return [(path, _type_message(rule, value))]
    if keyword == "enum":
        noun = _noun(path)
        names = ", ".join(str(v) for v in rule)
        if not isinstance(value, str):
            return [(path, f"expected a {noun}, one of: {names}; got {_describe(value)}")]
        hint = suggest(value, [str(v) for v in rule])
        return [(path, f"'{value}' is not a valid {noun}{hint} (allowed: {names})")]
    if keyword == "minimum":
        return [(path, f"must be at least {rule}, got {value}")]
    if keyword == "exclusiveMinimum":
        return [(path, f"must be more than {rule}, got {value}")]
    if keyword == "maximum":
        return [(path, f"must be at most {rule}, got {value}")]
    if keyword == "exclusiveMaximum":
        return [(path, f"must be less than {rule}, got {value}")]
    if keyword == "pattern":
        if rule == _ID_PATTERN:
            return [(path, f"'{value}' is not a valid id: use lowercase letters, digits, - and _")]
        if rule == _REF_PATTERN:
            return [
                (
                    path,
                    f"'{value}' is not a valid id or seat variable: use lowercase letters, "
                    "digits, - and _, or $ and a variable name such as $subject",
                )
            ]
        if rule == _LANGUAGE_PATTERN:
            return [
                (path, f"'{value}' is not a language tag: write one like ru, ky, uz-Cyrl or en")
            ]
        if rule == _PERCENT_PATTERN:
            return [(path, f"'{value}' is not a tolerance: give a number, or a percentage like 2%")]
        return [
            (
                path,
                f"'{value}' is not a host name under .test (like coinvault.test); "
                "the sandbox never uses real domains",
            )
        ]
    if keyword == "format":
        return [(path, f"'{value}' is not a date in the form YYYY-MM-DD")]
    if keyword in ("minLength", "minProperties"):
        return [(path, "must not be empty")]
    if keyword == "minItems":
        return [(path, f"must list at least {rule} value{'s' if rule != 1 else ''}")]
    if keyword == "uniqueItems":
        seen, dup = [], None
        for item in value:
            if item in seen:
                dup = item
                break
            seen.append(item)
        return [(path, f"lists {dup!r} more than once")]
    return [(path, error.message)]


def _explain_any_of(error: jsonschema.ValidationError) -> list[tuple[Path, str]]:
    """A value of two kinds: an amount or fee rate (a number or a {min, max} mapping), a
    tolerance, boards, a Tron wallet, a text (or a mapping language -> text)."""
    branches: dict[str | int, list[jsonschema.ValidationError]] = {}
    for sub in error.context or ():
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    fitting = [
        errors
        for errors in branches.values()
        if not any(e.validator == "type" and not e.relative_path for e in errors)
    ]
    if not fitting:
        path = tuple(error.absolute_path)
        if path[-1:] == ("tolerance",):
            message = _type_message(["number"], error.instance)
            return [(path, message.replace("a number", "a number or a percentage like 2%", 1))]
        if path[-1:] == ("boards",):
            message = _type_message(["integer", "array"], error.instance)
            return [(path, message.replace("a list", "a list of boards {name, threads}"))]
        if path[-1:] == ("tron",):
            message = _type_message(["boolean", "object"], error.instance)
            return [(path, message.replace("a mapping", "a mapping {USDT, TRX}"))]
        branches_given: Any = error.validator_value  # the anyOf's list of branches
        if {"$ref": "#/$defs/translations"} in branches_given:
            message = _type_message(["string", "object"], error.instance)
            return [(path, message.replace("a mapping", "a mapping language -> text"))]
        message = _type_message(["number", "object"], error.instance)
        return [(path, message.replace("a mapping", "a mapping {min, max}"))]
    return [pair for errors in fitting for sub in errors for pair in _explain(sub)]


_TYPE_NAMES = {
    "string": "text",
    "number": "a number",
    "integer": "a whole number",
    "boolean": "true or false",
    "object": "a mapping",
    "array": "a list",
    "null": "nothing",
}


def _type_message(expected: str | list[str], value: object) -> str:
    """`expected a number, got text ('abc')`, with a hint for YAML's usual surprises."""
    wanted = [expected] if isinstance(expected, str) else list(expected)
    message = (
        f"expected {' or '.join(_TYPE_NAMES.get(w, w) for w in wanted)}, got {_describe(value)}"
    )
    if isinstance(value, bool) and "boolean" not in wanted:
        message += " (YAML reads yes/no/on/off/true/false as booleans; put the value in quotes)"
    elif isinstance(value, str) and {"number", "integer"} & set(wanted):
        try:
            float(value)
            message += " (remove the quotes)"
        except ValueError:
            pass
    elif isinstance(value, int | float) and wanted == ["string"]:
        message += " (put the value in quotes)"
    return message


def _describe(value: object) -> str:
    """A value's type and, for scalars, the value itself, for messages."""
    if value is None:
        return "nothing (an empty value)"
    if isinstance(value, bool):
        return f"a boolean ({'true' if value else 'false'})"
    if isinstance(value, int | float):
        return f"a number ({value})"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"text ('{shown}')"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _noun(path: Path) -> str:
    """What an enum value at `path` is called in messages."""
    for part in reversed(path):
        if isinstance(part, str):
            return _NOUNS.get(part, part)
    return "value"


def _range(value: float | dict[str, float]) -> Amount:
    """An Amount from a number or a {min, max} mapping."""
    if isinstance(value, dict):
        return Amount(float(value["min"]), float(value["max"]))
    return Amount(float(value), float(value))


def _build(data: dict, lines: dict[Path, int], path: pathlib.Path) -> Scenario:
    """The dataclasses of a valid document, with every default filled."""
    meta_in = data["meta"]
    meta = Meta(
        title=meta_in["title"],
        summary=meta_in.get("summary", Meta.summary),
        locale=meta_in.get("locale", Meta.locale),
        languages=tuple(meta_in.get("languages", ())),
    )
    world_in = data.get("world") or {}
    knobs = WorldKnobs()
    world = WorldKnobs(
        seed=int(world_in.get("seed", knobs.seed)),
        start=dt.date.fromisoformat(world_in["start"]) if "start" in world_in else knobs.start,
        days=int(world_in.get("days", knobs.days)),
        background_users=int(world_in.get("background_users", knobs.background_users)),
        transactions=int(world_in.get("transactions", knobs.transactions)),
        block_interval=int(world_in.get("block_interval", knobs.block_interval)),
        fee_rate=_range(world_in["fee_rate"]) if "fee_rate" in world_in else knobs.fee_rate,
        tor_latency=bool(world_in.get("tor_latency", knobs.tor_latency)),
        live_block_seconds=int(world_in.get("live_block_seconds", knobs.live_block_seconds)),
        tron_transactions=int(world_in.get("tron_transactions", knobs.tron_transactions)),
        btc_usdt=float(world_in.get("btc_usdt", knobs.btc_usdt)),
        swap_fee=float(world_in.get("swap_fee", knobs.swap_fee)),
        issuer_answer_minutes=float(
            world_in.get("issuer_answer_minutes", knobs.issuer_answer_minutes)
        ),
    )
    actors = tuple(
        Actor(
            id=a["id"],
            role=a["role"],
            kind=a.get("kind", Actor.kind),
            count=int(a.get("count", 1)),
            name=a.get("name"),
            username=a.get("username"),
            locale=a.get("locale", meta.locale),
            opsec=tuple(a.get("opsec", ())),
            exchange=a.get("exchange"),
            balance=float(a.get("balance", 0.0)),
            domain=a.get("domain"),
            tron=_tron_wallet(a),
            language=a.get("language"),
            line=lines[("actors", i)],
        )
        for i, a in enumerate(data.get("actors") or ())
    )
    sites = tuple(_site(s, lines, ("sites", i)) for i, s in enumerate(data.get("sites") or ()))
    markets = [(s.id, s.operator) for s in sites if s.kind == "market"]
    flows = tuple(
        _flow(f, i, lines[("flows", i)], world.days, markets)
        for i, f in enumerate(data.get("flows") or ())
    )
    extra = {key: value for key, value in data.items() if key.startswith("x-")}
    objectives = tuple(
        _objective(o, lines[("objectives", i)]) for i, o in enumerate(data.get("objectives") or ())
    )
    seats = _seats(data["seats"], lines[("seats",)]) if data.get("seats") else Seats()
    asked = totals_asked(objectives, flows, seats)
    sites = tuple(
        dataclasses.replace(site, show_totals=False)
        if site.id in asked and "show_totals" not in raw
        else site
        for site, raw in zip(sites, data.get("sites") or (), strict=True)
    )
    return Scenario(
        name=path.stem,
        meta=meta,
        world=world,
        actors=actors,
        sites=sites,
        flows=flows,
        objectives=objectives,
        seats=seats,
        injects=tuple(
            _inject(j, lines[("injects", i)]) for i, j in enumerate(data.get("injects") or ())
        ),
        artefacts=tuple(
            Artefact(
                id=a["id"],
                kind=a["kind"],
                title=a["title"],
                text=a.get("text", ""),
                actor=a.get("actor"),
                site=a.get("site"),
                line=lines[("artefacts", i)],
            )
            for i, a in enumerate(data.get("artefacts") or ())
        ),
        solution=resolve_solution(path, data.get("solution")),
        version=int(data.get("version", 1)),
        source=str(path),
        extra=extra,
    )


def _tron_wallet(actor: dict) -> TronWallet | None:
    """An actor's Tron wallet: `tron: true` or `{USDT, TRX}`; exchanges always have one."""
    tron = actor.get("tron", actor["role"] == "exchange")
    if isinstance(tron, dict):
        return TronWallet(usdt=float(tron.get("USDT", 0.0)), trx=float(tron.get("TRX", 0.0)))
    return TronWallet() if tron or actor["role"] == "exchange" else None


def _objective(o: dict, line: int) -> Objective:
    """One objective; compare defaults by the answer's field, a "2%" tolerance is relative."""
    answer = o["answer"]
    of = next(k for k in ("actor", "site", "flow") if k in answer)
    tolerance = o.get("tolerance", 0.0)
    relative = isinstance(tolerance, str)
    return Objective(
        id=o["id"],
        question=o["question"],
        answer=Ref(of=of, id=answer[of], field=answer["field"], member=answer.get("member")),
        points=int(o.get("points", Objective.points)),
        compare=o.get("compare", default_compare(of, answer["field"])),
        tolerance=float(tolerance.rstrip("%")) / 100 if relative else float(tolerance),
        tolerance_relative=relative,
        attempts=int(o.get("attempts", Objective.attempts)),
        hints=tuple(Hint(text=h["text"], cost=int(h.get("cost", 0))) for h in o.get("hints", ())),
        accept=tuple(str(a) for a in o.get("accept", ()) if not isinstance(a, list)),
        spellings=tuple(
            tuple(str(s) for s in a) for a in o.get("accept", ()) if isinstance(a, list)
        ),
        given=bool(o.get("given", False)),
        line=line,
    )


def totals_asked(
    objectives: tuple[Objective, ...], flows: tuple[Flow, ...], seats: Seats
) -> set[str]:
    """Ids of the donation sites whose raised total or donation count an objective asks for.

    An objective asks for them when its answer is the `total` or `count` of a donation or
    consolidation flow made on the site (for a seat variable: of any flow it stands for).
    """
    by_id = {f.id: f for f in flows}
    asked = set()
    for objective in objectives:
        ref = objective.answer
        if ref.of != "flow" or ref.field not in ("total", "count"):
            continue
        if ref.id.startswith("$"):
            name = ref.id[1:]
            ids = [v for case in seats.cases if (v := dict(case).get(name)) is not None]
        else:
            ids = [ref.id]
        for flow in (by_id.get(i) for i in ids):
            if flow and flow.site and flow.kind in ("donation", "consolidation"):
                asked.add(flow.site)
    return asked


def _seats(s: dict, line: int) -> Seats:
    """The seats section; each case becomes a sorted tuple of (variable, id) pairs."""
    return Seats(
        count=int(s.get("count", Seats.count)),
        group=s.get("group"),
        cases=tuple(tuple(sorted(case.items())) for case in s.get("cases", ())),
        wallet=float(s.get("wallet", DEFAULT_WALLET)),
        line=line,
    )


def _inject(j: dict, line: int) -> Inject:
    """One inject; without at or solved only the instructor fires it."""
    at = float(j["at"]) if "at" in j else None
    solved = j.get("solved")
    return Inject(
        id=j["id"],
        action=j["action"],
        at=at,
        solved=solved,
        manual=bool(j.get("manual", at is None and solved is None and "when" not in j)),
        when=j.get("when"),
        text=j.get("text", ""),
        title=j.get("title", ""),
        site=j.get("site"),
        actor=j.get("actor"),
        to=j.get("to"),
        amount=float(j["amount"]) if "amount" in j else None,
        line=line,
    )


def _site(s: dict, lines: dict[Path, int], at: Path) -> Site:
    """One site with its defaults; onion unless it is a clearnet kind."""
    # Site's optional fields by kind of value; Any: they go in as keywords of different types.
    ints: dict[str, Any] = {
        k: int(s[k])
        for k in ("vendors", "listings", "boards", "threads", "posts")
        if k in s and not isinstance(s[k], list)
    }
    flags: dict[str, Any] = {
        k: s[k]
        for k in ("captcha", "ddos_queue", "fresh_address_per_donor", "show_totals", "online")
        if k in s
    }
    if "fresh_address_from_day" in s:
        flags["fresh_address_from_day"] = float(s["fresh_address_from_day"])
    lists: dict[str, Any] = {
        k: tuple(s[k]) for k in ("featured", "categories", "currencies", "mistakes") if k in s
    }
    return Site(
        id=s["id"],
        kind=s["kind"],
        name=s["name"],
        operator=s.get("operator"),
        onion=s.get("onion", s["kind"] not in CLEARNET_KINDS),
        domain=s.get("domain"),
        mirror_of=s.get("mirror_of"),
        server=s.get("server"),
        commission=float(s.get("commission", 0.0)),
        description=s.get("description"),
        description_line=lines.get(at + ("description",), 0),
        language=s.get("language"),
        forum_boards=tuple(
            _board(b, lines, at + ("boards", j))
            for j, b in enumerate(s["boards"] if isinstance(s.get("boards"), list) else ())
        ),
        channels=tuple(
            _channel(c, lines, at + ("channels", j)) for j, c in enumerate(s.get("channels", ()))
        ),
        line=lines[at],
        **ints,
        **flags,
        **lists,
    )


def _said(item: dict, lines: dict[Path, int], at: Path, by: str = "by") -> Said:
    """A post or chat line; `by` is the key naming its writer (`from` in a chat)."""
    return Said(
        text=item["text"],
        by=item.get(by),
        day=float(item["day"]) if "day" in item else None,
        pinned=bool(item.get("pinned", False)),
        line=lines[at],
    )


def _channel(c: dict, lines: dict[Path, int], at: Path) -> Channel:
    """A channel of a social site; its posts are written by the channel's actor."""
    bot = c.get("donation_bot")
    return Channel(
        id=c["id"],
        name=c["name"],
        actor=c["actor"],
        language=c.get("language"),
        description=c.get("description", ""),
        posts=tuple(
            dataclasses.replace(_said(p, lines, at + ("posts", k)), by=c["actor"])
            for k, p in enumerate(c.get("posts", ()))
        ),
        chat=tuple(
            _said(line, lines, at + ("chat", k), by="from")
            for k, line in enumerate(c.get("chat", ()))
        ),
        donation_bot=(
            DonationBot(
                flow=bot["flow"], reply=bot.get("reply", ""), line=lines[at + ("donation_bot",)]
            )
            if bot
            else None
        ),
        line=lines[at],
    )


def _board(b: dict, lines: dict[Path, int], at: Path) -> ForumBoard:
    """A forum board the scenario writes, with its threads."""
    return ForumBoard(
        name=b["name"],
        description=b.get("description", ""),
        threads=tuple(
            _thread(t, lines, at + ("threads", k)) for k, t in enumerate(b.get("threads", ()))
        ),
        line=lines[at],
    )


def _thread(t: dict, lines: dict[Path, int], at: Path) -> ForumThread:
    """A thread: its first post opens it (by the thread's author unless it says `by`)."""
    posts = [_said(p, lines, at + ("posts", k)) for k, p in enumerate(t["posts"])]
    return ForumThread(
        title=t["title"],
        by=t["by"],
        posts=tuple(p if p.by else dataclasses.replace(p, by=t["by"]) for p in posts),
        day=float(t.get("day", 0.0)),
        line=lines[at],
    )


def _flow(f: dict, index: int, line: int, days: int, markets: list[tuple[str, str | None]]) -> Flow:
    """One flow with its defaults; a single payment ends when it starts, a series at the end."""
    count = int(f.get("count", 1))
    site = f.get("site")
    if site is None and f["kind"] == "commission":
        site = commission_market(f["from"], markets)
    start = float(f.get("start_day", 0.0))
    end = float(f["end_day"]) if "end_day" in f else (start if count == 1 else float(days))
    return Flow(
        id=f.get("id", f"{f['kind']}-{index + 1}"),
        kind=f["kind"],
        source=f["from"],
        target=f["to"],
        amount=_range(f["amount"]) if "amount" in f else None,
        count=count,
        start_day=start,
        end_day=end,
        site=site,
        via=f.get("via"),
        hops=int(f.get("hops", 0)),
        each=bool(f.get("each", False)),
        chain=f.get("chain", "btc"),
        asset=f.get("asset", CHAIN_ASSETS[f.get("chain", "btc")][0]),
        line=line,
    )
