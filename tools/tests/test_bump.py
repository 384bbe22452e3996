import pytest

from tools.bump import bump, next_version
from tools.workspace import Workspace, sibling_range


@pytest.mark.parametrize(
    ("current", "part", "expected"),
    [
        ("0.1.0", "minor", "0.2.0"),
        ("0.1.3", "patch", "0.1.4"),
        ("0.9.1", "major", "1.0.0"),
        ("1.2.3", "2.0.0", "2.0.0"),
    ],
)
def test_next_version(current, part, expected):
    assert next_version(current, part) == expected


@pytest.mark.parametrize("part", ["0.0.9", "0.1.0", "sideways"])
def test_next_version_rejects_a_lower_equal_or_malformed_target(part):
    with pytest.raises(SystemExit):
        next_version("0.1.0", part)


def test_ranges_allow_compatible_releases_only():
    assert sibling_range("0.3.2") == ">=0.3,<0.4"
    assert sibling_range("1.4.0") == ">=1.4,<2"


def test_bump_moves_version_changelog_and_every_dependent_range(workspace_copy):
    ws = Workspace(workspace_copy)
    before = {d.name: {str(r) for r in d.requirements} for d in ws}
    assert bump(ws, "flyte-models", "minor", relock=False) == "0.2.0"
    fresh = Workspace(workspace_copy)
    assert fresh["flyte-models"].version == "0.2.0"
    assert "## 0.2.0 (unreleased)" in (workspace_copy / "packages/flyte-models/CHANGELOG.md").read_text()
    dependents = {n for n, reqs in before.items() if any(r.startswith("flyte-models") for r in reqs)}
    assert "flyte-storage" in dependents
    for dist in fresh:
        reqs = {str(r) for r in dist.requirements}
        if dist.name in dependents:
            assert "flyte-models<0.3,>=0.2" in reqs, dist.name
        else:  # distributions that do not depend on it are untouched
            assert reqs == before[dist.name], dist.name


def test_bump_of_an_unknown_distribution_names_the_known_ones(workspace_copy):
    with pytest.raises(SystemExit, match=r"unknown distribution 'flyte-nope'.*flyte-models"):
        bump(Workspace(workspace_copy), "flyte-nope", "patch", relock=False)
