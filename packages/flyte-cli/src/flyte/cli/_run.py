"""``flyte run [--local] FILE TASK --<input> VALUE ...``: run a task from a Python file.

The file is imported, its tasks become subcommands, and each task's inputs become options typed
from its signature: numbers and strings as given, booleans as ``--x/--no-x``, everything
structured (lists, dicts, dataclasses, pydantic models) as JSON, enums by name.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import importlib
import importlib.util
import inspect
import json
import sys
import typing
from pathlib import Path
from typing import Any

import click

from flyte.cli._context import CLIContext


class Number(click.ParamType):  # type: ignore[type-arg]  # generic only in click >= 8.3
    """An int or float input; a value that does not parse is named with the type and an example."""

    def __init__(self, kind: type[int] | type[float]):
        self.kind = kind
        self.name = "integer" if kind is int else "float"  # click's names, shown in --help

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, self.kind) and not isinstance(value, bool):
            return value
        try:
            return self.kind(str(value).strip())
        except ValueError:
            example = "3" if self.kind is int else "0.5"
            flag = param.opts[0] if param is not None and param.opts else "--input"
            self.fail(f"{value!r} is not a valid {self.name}; example: {flag} {example}", param, ctx)


_SCALARS: dict[Any, click.ParamType[Any, Any]] = {int: Number(int), float: Number(float), str: click.STRING}


@dataclasses.dataclass(frozen=True)
class RunOptions:
    local: bool
    name: str | None
    project: str | None
    domain: str | None
    raw_data_path: str | None
    env_vars: dict[str, str]
    labels: dict[str, str]
    follow: bool = False
    progress: bool = True
    wait: bool = True


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
            flag = param.opts[0] if param is not None and param.opts else "--input"
            self.fail(
                f"{value!r} is not a valid {self.name} ({e}); example: {flag} {_example(self.annotation)}",
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


class StoredDataPath(click.ParamType):  # type: ignore[type-arg]  # generic only in click >= 8.3
    """A File, Dir or DataFrame input given as a local path or a URI (``s3://...``).

    A local path must exist; remote runs upload it first (:func:`upload_local_data`).
    """

    def __init__(self, base: type):
        self.base = base
        self.name = base.__name__.lower()

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, self.base):
            return value
        text = str(value)
        if "://" in text:
            return stored_data(self.base, text)
        path = Path(text).expanduser()
        from flyte.io import Dir, File

        wanted = "file" if self.base is File else "folder" if self.base is Dir else "file or folder"
        ok = path.is_file() if self.base is File else path.is_dir() if self.base is Dir else path.exists()
        if not ok:
            flag = param.opts[0] if param is not None and param.opts else "--input"
            example = "./data/" if self.base is Dir else "./data.parquet" if wanted != "file" else "./data.csv"
            self.fail(f"{text!r} is not an existing {wanted}; example: {flag} {example} (or a URI)", param, ctx)
        return stored_data(self.base, str(path.resolve()))


def stored_data(base: type, location: str) -> Any:
    """A File, Dir or DataFrame referring to ``location`` (a DataFrame's format from its suffix)."""
    from flyte.io import DataFrame

    if base is DataFrame:
        suffix = location.rstrip("/").rsplit(".", 1)[-1].lower() if "." in location.rsplit("/", 1)[-1] else ""
        return DataFrame.from_existing_remote(location, format=suffix if suffix in ("csv", "parquet") else "parquet")
    return base(path=location)


def _stored_data_base(annotation: Any) -> type | None:
    from flyte.io import DataFrame, Dir, File

    base = typing.get_origin(annotation) or annotation
    return base if isinstance(base, type) and issubclass(base, (File, Dir, DataFrame)) else None


def upload_local_data(inputs: dict[str, Any], progress: bool) -> dict[str, Any]:
    """``inputs`` with every File, Dir or DataFrame on local disk uploaded to the backend, each
    with a byte progress bar on a terminal (unless ``progress`` is False)."""
    from flyte.cli._progress import Activity, is_terminal
    from flyte.io import DataFrame, Dir, File
    from flyte.remote import upload_dir, upload_file

    result = dict(inputs)
    for name, value in inputs.items():
        location = value.uri if isinstance(value, DataFrame) else getattr(value, "path", None)
        if not isinstance(value, (File, Dir, DataFrame)) or not location or "://" in location:
            continue
        folder = Path(location).is_dir()
        with Activity(progress and is_terminal()):
            uri = upload_dir(location) if folder else upload_file(location)
        if isinstance(value, DataFrame):
            result[name] = DataFrame.from_existing_remote(uri, format=value.format)
        else:
            result[name] = dataclasses.replace(value, path=uri)
        click.echo(f"Uploaded {location} for input {name}: {uri}", err=True)
    return result


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
    stored = _stored_data_base(annotation)
    if stored is not None:
        return StoredDataPath(stored)
    return JsonValue(annotation, input_name)


def input_options(inputs: dict[str, tuple[Any, Any]]) -> list[click.Parameter]:
    """One option per input (``name -> (annotation, default)``), typed from the annotation."""
    params: list[click.Parameter] = []
    for input_name, (annotation, default) in inputs.items():
        required = default is inspect.Parameter.empty
        flag = "--" + input_name.replace("_", "-")
        # A required option gets no default at all: an explicit default of None would satisfy it.
        extra: dict[str, Any] = {"required": True} if required else {"default": default, "show_default": True}
        if default is _BACKEND_DEFAULT:
            extra = {"default": None, "show_default": False}
        if annotation is bool:
            decls = [f"{flag}/--no-{input_name.replace('_', '-')}", input_name]
            params.append(click.Option(decls, help="bool input", **extra))
            continue
        if isinstance(default, enum.Enum):
            extra["default"] = default.name
        help_text = f"{_type_name(annotation)} input" + (" (required)" if required else "")
        if default is _BACKEND_DEFAULT:
            help_text += " (default: the task's)"
        params.append(
            click.Option([flag, input_name], type=_param_type(annotation, input_name), help=help_text, **extra)
        )
    return params


# The default of a deployed task's input: the backend knows it, the CLI does not need to.
_BACKEND_DEFAULT = object()


def _task_command(task: Any, options: RunOptions) -> click.Command:
    def invoke(**inputs: Any) -> None:
        _run_task(task, inputs, options)

    doc = inspect.getdoc(task.func) or f"Run the task {task.name}."
    return click.Command(task.short_name, params=input_options(task.interface.inputs), callback=invoke, help=doc)


def _settings(options: RunOptions) -> dict[str, Any]:
    return {
        "name": options.name,
        "project": options.project,
        "domain": options.domain,
        "raw_data_path": options.raw_data_path,
        "env_vars": options.env_vars or None,
        "labels": options.labels or None,
    }


def _run_task(task: Any, inputs: dict[str, Any], options: RunOptions) -> None:
    import flyte.runtime as runtime

    settings = _settings(options)
    if options.local:
        result = runtime.with_runcontext(mode="local", **settings).run(task, **inputs)
        click.echo(f"Run {result.name} {result.phase.lower()} (record: {result.url})")
        _print_outputs(result.outputs().named_outputs())
        return
    from flyte.cli._backend import init_runtime, resolve
    from flyte.cli._progress import Activity, is_terminal

    obj = click.get_current_context().find_object(CLIContext) or CLIContext()
    backend = resolve(obj, start=True, project=options.project, domain=options.domain)
    init_runtime(backend)
    inputs = upload_local_data(inputs, options.progress)
    # A spinner while the code is bundled and the run submitted, a byte bar while the bundle uploads.
    with (
        Activity(options.progress and is_terminal()) as activity,
        activity.step("Bundling the code and submitting the run"),
    ):
        remote = runtime.with_runcontext(mode="remote", **settings).run(task, **inputs)
    _watch_remote(remote, backend.endpoint, options)


def _watch_remote(remote: Any, endpoint: str, options: RunOptions) -> None:
    click.echo(f"Run {remote.name} submitted to {endpoint}: {remote.url}")
    if options.wait:
        follow_run(remote, follow=options.follow, live=options.progress)


def follow_run(remote: Any, *, follow: bool, live: bool) -> None:
    """Watch a submitted run until it ends, then print its phase and outputs (or raise its error)."""
    from flyte.cli._live import watch_run

    phase = watch_run(remote, follow=follow, live=live)
    remote.wait()
    click.echo(f"Run {remote.name} {str(phase).lower()}")
    remote.raise_for_status()
    _print_outputs(remote.outputs().named_outputs())


def _print_outputs(outputs: dict[str, Any]) -> None:
    for output_name, value in outputs.items():
        click.echo(f"{output_name}: {value!r}")


def load_module(file: Path, *, module: str | None = None, root: Path | None = None) -> Any:
    """Import a user's Python file: as a module named after it with its folder first on sys.path,
    or, given ``module`` and ``root``, as that dotted module imported from ``root``."""
    path = file.resolve()
    if not path.is_file():
        raise click.UsageError(f"FILE {file} does not exist or is not a file")
    if path.suffix != ".py":
        raise click.UsageError(f"FILE {file} is not a Python file (.py)")
    folder = str(root or path.parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    try:
        if module is not None:
            return importlib.import_module(module)
        name = path.stem
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise click.UsageError(f"FILE {file} cannot be imported")
        loaded = importlib.util.module_from_spec(spec)
        sys.modules[name] = loaded
        spec.loader.exec_module(loaded)
        return loaded
    except click.UsageError:
        raise
    except Exception as e:
        from flyte.errors import ModuleLoadError

        raise ModuleLoadError(f"importing {file} failed: {type(e).__name__}: {e}") from e


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
        if ctx.resilient_parsing:  # shell completion: a file that does not load completes to nothing
            try:
                return sorted(self._load())
            except Exception:
                return []
        return sorted(self._load())

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        tasks = self._load()
        if cmd_name not in tasks:
            known = ", ".join(sorted(tasks)) or "none"
            raise click.UsageError(f"no task {cmd_name!r} in {self.file}; its tasks: {known}")
        return _task_command(tasks[cmd_name], self.options)


class DeployedTaskGroup(click.Group):
    """``flyte run deployed-task NAME[:VERSION]``: a task registered on the backend."""

    def __init__(self, options: RunOptions):
        super().__init__(name="deployed-task", help="Run a task deployed on the backend: NAME or NAME:VERSION.")
        self.options = options

    def list_commands(self, ctx: click.Context) -> list[str]:
        return []

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        from flyte.cli import _records as records
        from flyte.cli._backend import connect

        name, _, version = cmd_name.partition(":")
        obj = ctx.find_object(CLIContext) or CLIContext()
        backend = connect(obj, project=self.options.project, domain=self.options.domain)
        try:
            details = records.task_details(name, version or None)
        except LookupError as e:
            raise click.UsageError(str(e)) from None
        inputs = deployed_inputs(details)
        version = details.task_id.version

        def invoke(**values: Any) -> None:
            _run_deployed(name, version, {k: v for k, v in values.items() if v is not None}, self.options, backend)

        doc = details.spec.documentation.short_description or f"Run the deployed task {name} (version {version})."
        return click.Command(cmd_name, params=input_options(inputs), callback=invoke, help=doc)


def deployed_inputs(details: Any) -> dict[str, tuple[Any, Any]]:
    """``name -> (python type, default)`` of a deployed task's inputs, from its interface."""
    from flyte.types import TypeEngine

    variables = details.spec.task_template.interface.inputs
    types = TypeEngine.guess_python_types(variables)
    with_default = {p.name for p in details.spec.default_inputs if p.parameter.HasField("default")}
    names = [entry.key for entry in variables.variables] if hasattr(variables, "variables") else list(types)
    return {n: (types.get(n, Any), _BACKEND_DEFAULT if n in with_default else inspect.Parameter.empty) for n in names}


def _run_deployed(name: str, version: str, inputs: dict[str, Any], options: RunOptions, backend: Any) -> None:
    import flyte.remote as remote
    import flyte.runtime as runtime
    from flyte.cli._backend import init_runtime

    init_runtime(backend)
    inputs = upload_local_data(inputs, options.progress)
    task = remote.Task.get(name, project=backend.project, domain=backend.domain, version=version)
    # flyte.run takes a deployed task reference too; its signature names only the local kind.
    run = runtime.with_runcontext(mode="remote", **_settings(options)).run(task, **inputs)  # type: ignore[arg-type]
    _watch_remote(run, backend.endpoint, options)


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
            follow=bool(params.get("follow")),
            progress=not params.get("no_progress"),
            wait=not params.get("no_wait"),
        )
        if cmd_name == "deployed-task":
            if options.local:
                raise click.UsageError("--local runs a task from a file; a deployed task runs on its backend")
            return DeployedTaskGroup(options)
        return FileGroup(Path(cmd_name), options)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return []

    def shell_complete(self, ctx: click.Context, incomplete: str) -> list[Any]:
        from click.shell_completion import CompletionItem

        items: list[Any] = []
        if "deployed-task".startswith(incomplete) and incomplete:
            items.append(CompletionItem("deployed-task"))
        if incomplete.startswith("-"):
            return [CompletionItem(name) for name in _option_names(self, ctx) if name.startswith(incomplete)]
        return [*items, CompletionItem(incomplete, type="file")]

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Arguments"):
            formatter.write_dl(
                [
                    ("FILE TASK", "a Python file and the name of a task defined in it"),
                    ("deployed-task NAME[:VERSION]", "a task deployed on the backend (its latest version by default)"),
                ]
            )


def _option_names(command: click.Command, ctx: click.Context) -> list[str]:
    return [o for p in command.get_params(ctx) if isinstance(p, click.Option) for o in (*p.opts, *p.secondary_opts)]


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
@click.option(
    "--no-progress",
    is_flag=True,
    help="No spinner, upload bars or live view animation; plain lines instead (also when stdout is not a terminal).",
)
@click.option("--no-wait", is_flag=True, help="Submit the run and return without watching it (remote runs).")
def run(**_: Any) -> None:
    """Run a task from a Python file, or a deployed one.

    \b
    flyte run --local hello.py main --name world    # in this process
    flyte run hello.py main --name world            # on the backend (the embedded one if none is configured)
    flyte run deployed-task hello_env.main --name world
    """
