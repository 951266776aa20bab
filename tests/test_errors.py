"""One exceptions tree per side: every exception class derives from the side's root, and
the tree drawn in the root's module docstring names exactly those classes, with their
parents and the modules that define them (so the drawing cannot drift from the code).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re

import pytest

import investigator_tools.errors
import sandbox.errors

# side: (packages walked, root class, module whose docstring draws the tree)
SIDES = {
    "engine": (("sandbox", "marketplaces"), sandbox.errors.SandboxError, sandbox.errors),
    "toolkit": (
        ("investigator_tools",),
        investigator_tools.errors.InvestigateError,
        investigator_tools.errors,
    ),
}
_ENTRY = re.compile(r"^(?P<indent>(?:│   |    )*)(?:├── |└── )(?P<name>\w+)\s+(?P<text>.*)$")
_WHERE = re.compile(r"^(?P<module>[a-z_][\w.]*): ")


def _modules(packages: tuple[str, ...]):
    """Every module of the packages, imported (a `__main__` would run its command)."""
    for package in packages:
        pkg = importlib.import_module(package)
        yield pkg
        for info in pkgutil.walk_packages(pkg.__path__, package + "."):
            if info.name.rsplit(".", 1)[-1] != "__main__":
                yield importlib.import_module(info.name)


def _defined(packages: tuple[str, ...]) -> dict[str, type]:
    """{qualified name: class} of every exception class the packages define."""
    found = {}
    for module in _modules(packages):
        for obj in vars(module).values():
            if (
                inspect.isclass(obj)
                and issubclass(obj, BaseException)
                and obj.__module__ == module.__name__
            ):
                found[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return found


def _drawn(module, root: type, packages: tuple[str, ...]) -> dict[str, tuple[str | None, str]]:
    """{class name: (parent name or None, defining module)} as the docstring's tree draws it.

    A `module:` that does not start with one of the side's packages is one of the root's.
    """
    lines = module.__doc__.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(root.__name__ + " "))
    package = module.__name__.split(".")[0]
    tree = {root.__name__: (None, module.__name__)}
    parents = [root.__name__]
    for line in lines[start + 1 :]:
        if not line.strip():
            break
        m = _ENTRY.match(line)
        if m is None:  # a description's second line
            continue
        depth = len(m["indent"]) // 4 + 1
        where = _WHERE.match(m["text"])
        defined_in = module.__name__
        if where:
            defined_in = where["module"]
            if defined_in.split(".")[0] not in packages:
                defined_in = f"{package}.{defined_in}"
        assert m["name"] not in tree, f"{m['name']} drawn twice"
        tree[m["name"]] = (parents[depth - 1], defined_in)
        parents[depth:] = [m["name"]]
    return tree


@pytest.fixture(scope="module", params=sorted(SIDES))
def side(request):
    """(exception classes defined on a side, its root, the module drawing its tree)."""
    packages, root, module = SIDES[request.param]
    return _defined(packages), root, module, packages


def test_every_exception_derives_from_its_root(side):
    """Whatever a side raises on purpose, `except <root>` catches it."""
    classes, root, _, _ = side
    strays = [name for name, cls in classes.items() if not issubclass(cls, root)]
    assert strays == [], f"not derived from {root.__name__}: {strays}"


def test_the_tree_is_drawn_truthfully(side):
    """The docstring names every class once, under its real parent, in its real module."""
    classes, root, module, packages = side
    drawn = _drawn(module, root, packages)
    real = {}
    for cls in classes.values():
        parents = [b.__name__ for b in cls.__bases__ if issubclass(b, root)]
        assert len(parents) <= 1, f"{cls.__name__} has two parents in the tree: {parents}"
        real[cls.__name__] = (parents[0] if parents else None, cls.__module__)
    assert len(real) == len(classes), "two exception classes share a name"
    assert drawn == real


def test_errors_stay_the_builtin_errors_they_were():
    """Old `except ValueError/OSError/LookupError` clauses still catch these."""
    from marketplaces.common.state import HandleTaken
    from sandbox.explorer.models import BadRequest, NotFound
    from sandbox.gateway.server import GatewayBindError
    from sandbox.ledger.address import InvalidAddress
    from sandbox.open_files import OpenFilesLimitError

    for cls, builtin in (
        (HandleTaken, ValueError),
        (BadRequest, ValueError),
        (InvalidAddress, ValueError),
        (NotFound, LookupError),
        (GatewayBindError, OSError),
        (OpenFilesLimitError, OSError),
    ):
        assert issubclass(cls, builtin), cls
    error = OpenFilesLimitError(24, "too few open files")
    assert (error.errno, str(error)) == (24, "[Errno 24] too few open files")
