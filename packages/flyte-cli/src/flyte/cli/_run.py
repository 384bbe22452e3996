"""``flyte run [--local] FILE TASK --<input> VALUE ...``: run a task from a Python file.

The file is imported, its tasks become subcommands, and each task's inputs become options typed
from its signature: numbers and strings as given, booleans as ``--x/--no-x``, everything
structured (lists, dicts, dataclasses, pydantic models) as JSON, enums by name.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import importlib.util
import inspect
import json
import sys
import typing
from pathlib import Path
from typing import Any

import click

from flyte.cli._context import CLIContext

_SCALARS: dict[Any, click.ParamType[Any, Any]] = {int: click.INT, float: click.FLOAT, str: click.STRING}


@dataclasses.dataclass(frozen=True)
class RunOptions:
    local: bool
    name: str | None
    project: str | None
    domain: str | None
    raw_data_path: str | None
    env_vars: dict[str, str]
    labels: dict[str, str]


class JsonValue(click.ParamType):  # type: ignore[type-arg]  # generic only in click >= 8.3
    """A structured input given as JSON, converted to the annotated Python type."""

    def __init__(self, annotation: Any, input_name: str):
        self.annotation = annotation
        self.input_name = input_name
        self.name = _type_name(annotation)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if not isinstance(value, str):
            return value
        try:
            return _from_json(self.annotation, value)
        except (ValueError, TypeError, KeyError) as e:
            self.fail(
                f"{value!r} is not a valid {self.name} ({e}); example: {_example(self.annotation)}",
                param,
                ctx,
            )


class EnumChoice(click.Choice):  # type: ignore[type-arg]  # generic only in click >= 8.3
    """An enum input given by member name; the task receives the member."""

    def __init__(self, enum_type: type[enum.Enum]):
        super().__init__(list(enum_type.__members__), case_sensitive=True)
        self.enum_type = enum_type

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, self.enum_type):
            return value
        return self.enum_type[super().convert(value, param, ctx)]


def _type_name(annotation: Any) -> str:
    return getattr(annotation, "__name__", None) or str(annotation).replace("typing.", "")


def _example(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    if origin in (list, set, tuple):
        return "'[1, 2, 3]'"
    if origin is dict:
        return "'{\"key\": 1}'"
    if dataclasses.is_dataclass(annotation) or hasattr(annotation, "model_fields"):
        fields = (
            [f.name for f in dataclasses.fields(annotation)]
            if dataclasses.is_dataclass(annotation)
            else list(annotation.model_fields)
        )
        return "'{" + ", ".join(f'"{f}": ...' for f in fields) + "}'"
    return "a JSON value"


def _from_json(annotation: Any, text: str) -> Any:
    data = json.loads(text)
    return _build(annotation, data)


def _build(annotation: Any, data: Any) -> Any:
    """A Python value of ``annotation``'s type from parsed JSON."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if annotation is Any or annotation is inspect.Parameter.empty:
        return data
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        if data is None and type(None) in args:
            return None
        errors = []
        for arg in (a for a in args if a is not type(None)):
            try:
                return _build(arg, data)
            except (ValueError, TypeError, KeyError) as e:
                errors.append(str(e))
        raise ValueError("; ".join(errors))
    if origin in (list, set, frozenset):
        if not isinstance(data, list):
            raise TypeError(f"expected a JSON list, got {type(data).__name__}")
        items = [_build(args[0] if args else Any, d) for d in data]
        return origin(items)
    if origin is tuple:
        if not isinstance(data, list):
            raise TypeError(f"expected a JSON list, got {type(data).__name__}")
        return tuple(
            _build(args[0] if args and args[-1] is Ellipsis else (args[i] if args else Any), d)
            for i, d in enumerate(data)
        )
    if origin is dict:
        if not isinstance(data, dict):
            raise TypeError(f"expected a JSON object, got {type(data).__name__}")
        value_type = args[1] if args else Any
        return {k: _build(value_type, v) for k, v in data.items()}
    if dataclasses.is_dataclass(annotation) and isinstance(annotation, type):
        if not isinstance(data, dict):
            raise TypeError(f"expected a JSON object, got {type(data).__name__}")
        hints = typing.get_type_hints(annotation)
        unknown = set(data) - {f.name for f in dataclasses.fields(annotation)}
        if unknown:
            raise KeyError(f"unknown field(s) {', '.join(sorted(unknown))}")
        return annotation(**{k: _build(hints.get(k, Any), v) for k, v in data.items()})
    if hasattr(annotation, "model_validate"):  # pydantic
        return annotation.model_validate(data)
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return annotation[data] if data in annotation.__members__ else annotation(data)
    if annotation in (datetime.datetime, datetime.date):
        return annotation.fromisoformat(data)
    if annotation is float and isinstance(data, int) and not isinstance(data, bool):
        return float(data)
    if isinstance(annotation, type) and not isinstance(data, annotation):
        raise TypeError(f"expected {annotation.__name__}, got {type(data).__name__}")
    return data


def _param_type(annotation: Any, input_name: str) -> click.ParamType[Any, Any]:
    if annotation in _SCALARS:
        return _SCALARS[annotation]
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return EnumChoice(annotation)
    if annotation is datetime.datetime:
        return click.DateTime()
    return JsonValue(annotation, input_name)


def _task_command(task: Any, options: RunOptions, file: Path) -> click.Command:
    params: list[click.Parameter] = []
    for input_name, (annotation, default) in task.interface.inputs.items():
        required = default is inspect.Parameter.empty
        flag = "--" + input_name.replace("_", "-")
        # A required option gets no default at all: an explicit default of None would satisfy it.
        extra: dict[str, Any] = {"required": True} if required else {"default": default, "show_default": True}
        if annotation is bool:
            decls = [f"{flag}/--no-{input_name.replace('_', '-')}", input_name]
            params.append(click.Option(decls, help="bool input", **extra))
            continue
        if isinstance(default, enum.Enum):
            extra["default"] = default.name
        help_text = f"{_type_name(annotation)} input" + (" (required)" if required else "")
        params.append(
            click.Option([flag, input_name], type=_param_type(annotation, input_name), help=help_text, **extra)
        )

    def invoke(**inputs: Any) -> None:
        _run_task(task, inputs, options, file)

    doc = inspect.getdoc(task.func) or f"Run the task {task.name}."
    return click.Command(task.short_name, params=params, callback=invoke, help=doc)


def _run_task(task: Any, inputs: dict[str, Any], options: RunOptions, file: Path) -> None:
    import flyte.runtime as runtime

    settings: dict[str, Any] = {
        "name": options.name,
        "project": options.project,
        "domain": options.domain,
        "raw_data_path": options.raw_data_path,
        "env_vars": options.env_vars or None,
        "labels": options.labels or None,
    }
    if options.local:
        result = runtime.with_runcontext(mode="local", **settings).run(task, **inputs)
        click.echo(f"Run {result.name} {result.phase.lower()} (record: {result.url})")
        _print_outputs(result.outputs().named_outputs())
        return
    cli_ctx = click.get_current_context().find_object(CLIContext)
    config = cli_ctx.config if cli_ctx is not None else None
    endpoint = config.platform.endpoint if config is not None else None
    if not endpoint:
        raise click.UsageError(
            "no backend configured: start one with `flyte start server` and pass --endpoint localhost:8090 "
            "(or set admin.endpoint in a config file), or add --local to run in this process"
        )
    assert config is not None
    runtime.init(
        endpoint=endpoint,
        insecure=config.platform.insecure,
        org=config.task.org,
        project=options.project or config.task.project,
        domain=options.domain or config.task.domain,
    )
    remote = runtime.with_runcontext(mode="remote", **settings).run(task, **inputs)
    click.echo(f"Run {remote.name} submitted to {endpoint}: {remote.url}")
    remote.wait()
    click.echo(f"Run {remote.name} {str(remote.phase).lower()}")
    remote.raise_for_status()
    _print_outputs(remote.outputs().named_outputs())


def _print_outputs(outputs: dict[str, Any]) -> None:
    for output_name, value in outputs.items():
        click.echo(f"{output_name}: {value!r}")


def load_module(file: Path) -> Any:
    """Import a user's Python file as a module named after it (its folder first on sys.path)."""
    path = file.resolve()
    if not path.is_file():
        raise click.UsageError(f"FILE {file} does not exist or is not a file")
    if path.suffix != ".py":
        raise click.UsageError(f"FILE {file} is not a Python file (.py)")
    folder = str(path.parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    name = path.stem
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise click.UsageError(f"FILE {file} cannot be imported")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as e:
        from flyte.errors import ModuleLoadError

        raise ModuleLoadError(f"importing {file} failed: {type(e).__name__}: {e}") from e
    return module


def tasks_in(module: Any) -> dict[str, Any]:
    from flyte.runtime import TaskTemplate

    found = {}
    for value in vars(module).values():
        if isinstance(value, TaskTemplate):
            found[value.short_name] = value
    return found


class FileGroup(click.Group):
    """The tasks of one file, each a subcommand."""

    def __init__(self, file: Path, options: RunOptions):
        super().__init__(name=str(file), help=f"Tasks in {file}.")
        self.file = file
        self.options = options
        self._tasks: dict[str, Any] | None = None

    def _load(self) -> dict[str, Any]:
        if self._tasks is None:
            self._tasks = tasks_in(load_module(self.file))
        return self._tasks

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(self._load())

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        tasks = self._load()
        if cmd_name not in tasks:
            known = ", ".join(sorted(tasks)) or "none"
            raise click.UsageError(f"no task {cmd_name!r} in {self.file}; its tasks: {known}")
        return _task_command(tasks[cmd_name], self.options, self.file)


class RunCommand(click.Group):
    """``flyte run``: its first argument is a file, whose tasks are the subcommands."""

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        params = ctx.params
        options = RunOptions(
            local=bool(params.get("local")),
            name=params.get("name"),
            project=params.get("project"),
            domain=params.get("domain"),
            raw_data_path=params.get("raw_data_path"),
            env_vars=dict(params.get("env") or ()),
            labels=dict(params.get("label") or ()),
        )
        return FileGroup(Path(cmd_name), options)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return []

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Arguments"):
            formatter.write_dl([("FILE TASK", "a Python file and the name of a task defined in it")])


def _key_value(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> list[tuple[str, str]]:
    pairs = []
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{item!r} is not KEY=VALUE", ctx, param)
        pairs.append((key, value))
    return pairs


@click.group(cls=RunCommand, invoke_without_command=False, subcommand_metavar="FILE TASK [INPUTS]...")
@click.option("--local", is_flag=True, help="Run in this process instead of on a backend.")
@click.option("--name", help="Name of the run (default: generated).")
@click.option("--project", help="Project of the run.")
@click.option("--domain", help="Domain of the run.")
@click.option("--raw-data-path", help="Where the run writes offloaded data.")
@click.option("-e", "--env", multiple=True, callback=_key_value, metavar="KEY=VALUE", help="Environment variable.")
@click.option("--label", multiple=True, callback=_key_value, metavar="KEY=VALUE", help="Label of the run.")
@click.option("--follow", is_flag=True, help="Stream the run's logs (remote runs).")
def run(**_: Any) -> None:
    """Run a task from a Python file: `flyte run --local hello.py main --name world`."""
