from pathlib import Path

import pytest

from flyte.config import Config, ConfigError, find_config_file
from flyte.errors import InitializationError

FULL = """\
admin:
  endpoint: dns:///localhost:8090
  insecure: true
task:
  project: flytesnacks
  domain: development
image:
  builder: local
  registry: localhost:5000
  image_refs:
    gpu: ghcr.io/acme/gpu:1
"""


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    for name in [
        "FLYTE_ADMIN_ENDPOINT",
        "FLYTE_ADMIN_INSECURE",
        "FLYTE_TASK_PROJECT",
        "FLYTE_TASK_DOMAIN",
        "FLYTE_IMAGE_BUILDER",
        "FLYTE_IMAGE_REGISTRY",
        "FLYTE_IMAGE_IMAGE_REFS",
        "FLYTE_ADMIN_RPCRETRIES",
        "FLYTECTL_CONFIG",
    ]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_a_full_file_fills_every_section(tmp_path):
    cfg = Config.auto(write(tmp_path / "c.yaml", FULL))
    assert cfg.platform.endpoint == "dns:///localhost:8090"
    assert cfg.platform.insecure is True
    assert (cfg.task.project, cfg.task.domain) == ("flytesnacks", "development")
    assert (cfg.image.builder, cfg.image.registry) == ("local", "localhost:5000")
    assert dict(cfg.image.image_refs) == {"gpu": "ghcr.io/acme/gpu:1"}
    assert cfg.source == tmp_path / "c.yaml"


def test_no_file_anywhere_means_defaults_and_local_mode():
    cfg = Config.auto()
    assert cfg.platform.endpoint is None
    assert cfg.platform.insecure is False
    assert cfg.source is None


def test_environment_variables_win_over_the_file(tmp_path, monkeypatch):
    monkeypatch.setenv("FLYTE_ADMIN_ENDPOINT", "flyte.example.com:443")
    monkeypatch.setenv("FLYTE_ADMIN_INSECURE", "false")
    monkeypatch.setenv("FLYTE_TASK_PROJECT", "other")
    monkeypatch.setenv("FLYTE_IMAGE_IMAGE_REFS", "a=img:1, b=img:2")
    cfg = Config.auto(write(tmp_path / "c.yaml", FULL))
    assert cfg.platform.endpoint == "flyte.example.com:443"
    assert cfg.platform.insecure is False
    assert cfg.task.project == "other"
    assert cfg.task.domain == "development"  # untouched keys still come from the file
    assert dict(cfg.image.image_refs) == {"a": "img:1", "b": "img:2"}


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        ("config.yaml", "config.yaml"),
        (".flyte/config.yaml", ".flyte/config.yaml"),
    ],
)
def test_lookup_prefers_the_working_directory(tmp_path, location, expected):
    write(tmp_path / "home" / ".flyte" / "config.yaml", "task: {project: home}\n")
    write(tmp_path / location, "task: {project: here}\n")
    assert find_config_file() == tmp_path / expected
    assert Config.auto().task.project == "here"


def test_lookup_finds_the_git_root_config_from_a_subfolder(tmp_path, monkeypatch):
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    write(tmp_path / "repo" / ".flyte" / "config.yaml", "task: {project: repo}\n")
    (tmp_path / "repo" / "src" / "deep").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "repo" / "src" / "deep")
    assert find_config_file() == tmp_path / "repo" / ".flyte" / "config.yaml"


def test_lookup_falls_back_to_flytectl_config_then_home(tmp_path, monkeypatch):
    home = write(tmp_path / "home" / ".flyte" / "config.yaml", "task: {project: home}\n")
    assert find_config_file() == home
    named = write(tmp_path / "elsewhere.yaml", "task: {project: named}\n")
    monkeypatch.setenv("FLYTECTL_CONFIG", str(named))
    assert find_config_file() == named


def test_an_empty_file_is_all_defaults(tmp_path):
    assert Config.auto(write(tmp_path / "c.yaml", "")).platform == Config().platform


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("admin:\n  insecure: maybe\n", r"c.yaml: admin.insecure is 'maybe'; expected true or false"),
        ("admin: [1, 2]\n", r"c.yaml: admin must be a mapping of keys"),
        ("- just\n- a list\n", r"c.yaml must be a mapping of sections .* got list"),
        ("admin:\n  endpoint: [a, b]\n", r"admin.endpoint is \['a', 'b'\]; expected a string"),
        ("admin:\n  rpcRetries: three\n", r"admin.rpcRetries is 'three'; expected an integer"),
        ("image:\n  image_refs: [x]\n", r"image.image_refs is \['x'\]; expected a mapping of names to image URIs"),
        ("admin:\n  endpoint: x\n bad indent: 1\n", r"c.yaml is not valid YAML at line 3"),
    ],
)
def test_bad_files_name_the_file_the_key_and_the_expected_form(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message) as caught:
        Config.auto(write(tmp_path / "c.yaml", text))
    assert isinstance(caught.value, InitializationError)


@pytest.mark.parametrize(
    ("var", "value", "message"),
    [
        ("FLYTE_ADMIN_INSECURE", "sometimes", r"FLYTE_ADMIN_INSECURE='sometimes': expected true or false"),
        ("FLYTE_ADMIN_RPCRETRIES", "x", r"FLYTE_ADMIN_RPCRETRIES='x': expected an integer"),
        ("FLYTE_IMAGE_IMAGE_REFS", "novalue", r"FLYTE_IMAGE_IMAGE_REFS='novalue': expected name=value pairs"),
    ],
)
def test_bad_environment_values_name_the_variable(monkeypatch, var, value, message):
    monkeypatch.setenv(var, value)
    with pytest.raises(ConfigError, match=message):
        Config.auto()


def test_a_missing_explicit_file_is_an_error_naming_it(tmp_path):
    with pytest.raises(ConfigError, match=r"nope.yaml does not exist"):
        Config.auto(tmp_path / "nope.yaml")


def test_a_directory_given_as_the_file_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="is a directory"):
        Config.auto(tmp_path)


def test_with_params_replaces_only_the_given_sections(tmp_path):
    from flyte.config import PlatformConfig

    cfg = Config.auto(write(tmp_path / "c.yaml", FULL))
    changed = cfg.with_params(platform=PlatformConfig(endpoint="other:1"))
    assert changed.platform.endpoint == "other:1"
    assert changed.task == cfg.task
    assert cfg.platform.endpoint == "dns:///localhost:8090"


def test_to_yaml_writes_what_auto_reads_back(tmp_path):
    cfg = Config.auto(write(tmp_path / "c.yaml", FULL))
    again = Config.auto(write(tmp_path / "again.yaml", cfg.to_yaml()))
    assert (again.platform, again.task, again.image) == (cfg.platform, cfg.task, cfg.image)


def test_to_yaml_of_the_defaults_is_empty():
    assert Config().to_yaml() == ""
