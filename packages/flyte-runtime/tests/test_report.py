import flyte.report
from flyte.runtime import TaskEnvironment, run

env = TaskEnvironment("reports")


def report_file(r, action: str = "a0"):
    from pathlib import Path

    return Path(r.url.removeprefix("file://")) / "actions" / action / "report.html"


def test_a_report_task_writes_its_tabs_when_it_finishes():
    @env.task(report=True)
    async def train() -> int:
        flyte.report.log("<h2>loss</h2><p>0.12</p>")
        flyte.report.get_tab("data").log("<table><tr><td>rows</td><td>10</td></tr></table>")
        return 1

    r = run(train)
    page = report_file(r).read_text()
    assert "<h2>loss</h2><p>0.12</p>" in page
    assert ">data</button>" in page
    assert "<td>rows</td>" in page


def test_replace_overwrites_and_flush_writes_without_report_flag():
    @env.task
    async def step() -> int:
        flyte.report.log("first")
        flyte.report.replace("second", do_flush=True)
        return 1

    page = report_file(run(step)).read_text()
    assert "second" in page
    assert "first" not in page


def test_a_task_without_report_and_without_flush_writes_nothing():
    @env.task
    async def quiet() -> int:
        flyte.report.log("never written")
        return 1

    assert not report_file(run(quiet)).exists()


def test_a_failing_report_task_still_writes_its_report():
    @env.task(report=True)
    async def crash() -> int:
        flyte.report.log("<p>got this far</p>")
        raise RuntimeError("then failed")

    import pytest

    from flyte.errors import RuntimeUserError

    with pytest.raises(RuntimeUserError) as caught:
        run(crash)
    assert caught.value.code == "RuntimeError"
    from pathlib import Path

    (page,) = Path(__import__("os").environ["FLYTE_LOCAL_RUNS_DIR"]).glob("*/actions/a0/report.html")
    assert "got this far" in page.read_text()


def test_outside_a_task_reports_collect_but_are_not_written(tmp_path):
    flyte.report.log("nowhere")
    assert flyte.report.current_report().path is None
    flyte.report.flush()  # no error, nothing written


def test_get_tab_without_creation_names_the_missing_tab():
    import pytest

    with pytest.raises(KeyError, match="has no tab 'absent'"):
        flyte.report.get_tab("absent", create_if_missing=False)
