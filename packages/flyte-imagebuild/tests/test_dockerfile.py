"""The generated Dockerfile: uv installs, BuildKit cache mounts when available, files where needed."""

from __future__ import annotations

from pathlib import Path

import flyte.imagebuild as ib
from flyte.imagebuild._plan import UV_IMAGE


def _image(tmp_path: Path) -> ib.Image:
    (tmp_path / "requirements.txt").write_text("numpy\n")
    return (
        ib.Image.from_debian_base(python_version=(3, 12), install_flyte=False, name="app")
        .with_apt_packages("git")
        .with_requirements(tmp_path / "requirements.txt")
        .with_pip_packages("pandas>=2", pre=True)
    )


def test_the_debian_base_gets_a_uv_made_venv(tmp_path: Path):
    lines = _image(tmp_path)._plan.dockerfile(buildkit=False).splitlines()

    assert lines[:3] == [
        f"FROM {UV_IMAGE} AS uv",
        "FROM python:3.12-slim-bookworm",
        "COPY --from=uv /uv /usr/local/bin/uv",
    ]
    assert "RUN uv venv /opt/venv --python python3.12 --python-preference only-system" in lines
    assert 'ENV VIRTUAL_ENV=/opt/venv PATH="/opt/venv/bin:$PATH"' in lines


def test_a_classic_build_copies_inputs_and_keeps_no_cache(tmp_path: Path):
    text = _image(tmp_path)._plan.dockerfile(buildkit=False)

    assert "COPY layers/004 /tmp/flyte-build/layers/004\n" in text
    assert (
        "uv pip install --python /opt/venv/bin/python --no-cache -r /tmp/flyte-build/layers/004/requirements.txt"
        in text
    )
    assert "uv pip install --python /opt/venv/bin/python --no-cache --prerelease=allow 'pandas>=2'" in text
    assert "--mount" not in text
    assert "rm -rf /var/lib/apt/lists/*" in text


def test_a_buildkit_build_mounts_caches_uv_and_inputs(tmp_path: Path):
    text = _image(tmp_path)._plan.dockerfile(buildkit=True)

    assert "COPY --from=uv" not in text  # uv is mounted per step, never part of the image
    assert "--mount=type=cache,target=/root/.cache/uv,id=flyte-uv,sharing=locked" in text
    assert "--mount=type=bind,source=layers/004,target=/tmp/flyte-build/layers/004" in text
    assert "--mount=type=cache,target=/var/cache/apt,sharing=locked" in text
    assert "COPY layers/004" not in text


def test_the_rendering_does_not_change_the_tag(tmp_path: Path):
    image = _image(tmp_path)
    assert image._plan.dockerfile(buildkit=True) != image._plan.dockerfile(buildkit=False)
    assert image.uri == _image(tmp_path).uri  # one tag, whichever way it is built


def test_install_steps_copy_only_their_own_inputs(tmp_path: Path):
    # Editing the sources must not invalidate the dependency layers before them.
    src = tmp_path / "src"
    src.mkdir()
    (src / "main.py").write_text("print(1)\n")
    lines = _image(tmp_path).with_source_folder(src)._plan.dockerfile(buildkit=False).splitlines()

    copies = [line for line in lines if line.startswith("COPY layers/")]
    assert copies == ["COPY layers/004 /tmp/flyte-build/layers/004", "COPY layers/006/src/ ./src/"]
    assert lines[-1] == "COPY layers/006/src/ ./src/"


def test_env_values_are_quoted(tmp_path: Path):
    text = ib.Image.from_debian_base(install_flyte=False, name="a").with_env_vars({"MSG": 'say "hi" $x'})._plan
    assert 'ENV MSG="say \\"hi\\" $x"' in text.dockerfile(buildkit=False)


def test_an_image_without_uv_layers_has_no_uv_stage():
    image = ib.Image.from_base("debian:12").clone(name="plain", extendable=True).with_commands(["echo hi"])
    assert image._plan.dockerfile(buildkit=False) == "FROM debian:12\nRUN echo hi\n"


def test_a_uv_script_sends_only_its_metadata_block(tmp_path: Path):
    script = tmp_path / "job.py"
    script.write_text('# /// script\n# dependencies = ["requests"]\n# ///\nimport requests\nSECRET = 1\n')
    plan = ib.Image.from_uv_script(script, name="job", python_version=(3, 12))._plan

    assert "-r /tmp/flyte-build/layers/003/script.py" in plan.dockerfile(buildkit=False)
    (sent,) = [f for f in plan.files if f.arcname == "layers/003/script.py"]
    assert sent.data == b'# /// script\n# dependencies = ["requests"]\n# ///\n'


def test_a_uv_script_without_a_block_is_an_error(tmp_path: Path):
    import pytest

    from flyte.errors import ImageBuildError

    script = tmp_path / "job.py"
    script.write_text("print(1)\n")
    with pytest.raises(ImageBuildError, match=r"layer 3 \(uv script .*job\.py\): .* has no '# /// script'"):
        ib.Image.from_uv_script(script, name="job").validate()
