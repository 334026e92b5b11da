"""No value a workflow passes in can forge a workflow command, a summary row or a request.

The runner reads a line of a container's stdout or stderr as a command when it starts (after
blanks) with ``::`` or holds ``##[``, and it splits lines at CR and LF. These tests run the
entrypoint as the runner does, with hostile values, and read its streams by those rules.
"""

from __future__ import annotations

import re

import pytest
from local_runner import Runner, action_metadata
from test_runner_realities import CannedServer

from versioned_action import aws
from versioned_action.errors import InvalidEnvironment, InvalidInput
from versioned_action.github import action
from versioned_action.github.commands import escape_line, escape_text, table_code
from versioned_action.github.inputs import UnknownInput, check_declared
from versioned_action.request import parse

FORGERIES = (
    "\n::set-output name=x::y\r\n::error::forged\r  ::add-mask::secret ##[add-mask]also"
    "\u2028::warning::w\x85::notice::n | `code` |\n| `version` | `999` |\n### forged\n```\n"
)
RUNNER_LINE_BREAK = re.compile(r"\r\n|\r|\n")
OWN_COMMAND = re.compile(
    r"::(group|endgroup|notice|error|warning)( title=versioned-action( [a-z]+)?( failed)?)?::"
)


def command_lines(text: str) -> list[str]:
    """Lines that the runner (or a reader splitting at any line break) takes for commands."""
    lines = set(RUNNER_LINE_BREAK.split(text)) | set(text.splitlines())
    return [line for line in lines if re.match(r"\s*::", line) or "##[" in line]


def assert_nothing_forged(step, errors: int) -> None:
    assert command_lines(step.stderr) == [], step.stderr
    commands = command_lines(step.stdout)
    assert all(OWN_COMMAND.match(line) for line in commands), commands
    assert sum(line.startswith("::error") for line in commands) == errors, step.stdout
    assert sum(line.startswith("::notice") for line in commands) == 0  # no step moves an alias
    assert sum(line.startswith("::group") for line in commands) <= 1


def code_span(cell: str) -> str:
    """The text of a cell that must be exactly one code span (CommonMark's rules)."""
    fence = re.match("`+", cell).group()
    assert cell.endswith(fence) and len(cell) >= 2 * len(fence), cell
    inner = cell[len(fence) : -len(fence)]
    assert len(fence) not in {len(run) for run in re.findall("`+", inner)}, cell
    if inner.startswith(" ") and inner.endswith(" ") and inner.strip():
        inner = inner[1:-1]
    return inner.replace("\\|", "|")


def summary_blocks(summary: str) -> tuple[list[str], list[str]]:
    """Headings and table rows of the summary, outside fenced code blocks."""
    headings, rows, fence = [], [], None
    for line in RUNNER_LINE_BREAK.split(summary):
        if fence:
            if re.fullmatch(rf" {{0,3}}{fence}`*\s*", line):
                fence = None
            continue
        opening = re.match(r" {0,3}(`{3,})", line)
        if opening:
            fence = opening.group(1)
        elif line.lstrip().startswith("#"):
            headings.append(line)
        elif line.lstrip().startswith("|"):
            rows.append(line)
    return headings, rows


@pytest.fixture
def workspace(tmp_path):
    path = tmp_path / "workspace"
    path.mkdir()
    (path / "a.bin").write_bytes(b"a")
    return path


# ----- 1. values in the log, the annotations and the summary -------------------------------


def test_a_hostile_path_and_metadata_are_echoed_harmlessly(workspace, moto_endpoint, unique):
    runner = Runner(workspace)
    common = {"bucket": f"hv-{unique}", "endpoint_url": moto_endpoint, "create_resources": "true"}
    put = runner.step(
        operation="put",
        name="app",
        path="a.bin",
        metadata="note=::error::forged | `x` | ##[add-mask]m",
        **common,
    )
    assert put.returncode == 0, put.stdout + put.stderr
    assert_nothing_forged(put, errors=0)

    # A line break in a path is refused before any request: the runner would read the path
    # output back with CR turned into LF, naming a file that does not exist.
    for broken in ("out" + FORGERIES.rstrip(), "o\r::error::X"):
        step = runner.step(operation="get", name="app", path=broken, **common)
        assert step.returncode == 1 and step.outputs == {}
        assert_nothing_forged(step, errors=1)
        assert "input path" in step.errors[0] and "line break" in step.errors[0]
        assert not (workspace / broken).exists()

    hostile = "out" + re.sub(r"[\r\n\u2028\x85]", " ", FORGERIES).rstrip()
    step = runner.step(operation="get", name="app", path=hostile, **common)
    assert step.returncode == 0, step.stdout + step.stderr
    assert (workspace / hostile).read_bytes() == b"a"
    assert step.outputs["path"] == hostile
    assert_nothing_forged(step, errors=0)
    assert f"path: {escape_line(hostile)}" in step.stdout

    headings, rows = summary_blocks(step.summary)
    assert headings == ["### versioned-action get"]
    assert rows[:2] == ["| output | value |", "| --- | --- |"]
    cells = [re.split(r"(?<!\\)\|", row)[1:-1] for row in rows[2:]]
    assert all(len(pair) == 2 for pair in cells), rows
    table = {code_span(k.strip()): code_span(v.strip()) for k, v in cells}
    assert len(table) == len(cells) and table["path"] == escape_text(hostile)
    assert table["version"] == "LATEST"


FAILING = [
    ({"operation": "list", "name": "app" + FORGERIES}, "name"),
    ({"operation": "get" + FORGERIES}, "operation"),
    (
        {"operation": "put", "name": "app", "path": "a.bin", "metadata": "k=v" + FORGERIES},
        "metadata",
    ),
    (
        {"operation": "put", "name": "app", "path": "a.bin", "metadata": '{"k": "v\\n::error::x"}'},
        "metadata",
    ),
    ({"operation": "put", "name": "app", "path": "missing" + FORGERIES.rstrip()}, "path"),
    ({"operation": "put", "name": "app", "path": "a.bin", "tags": "a=b" + FORGERIES}, "tags"),
    ({"operation": "promote", "name": "app", "alias": "prod" + FORGERIES}, "alias"),
    ({"operation": "get", "name": "app", "version": "1" + FORGERIES}, "version"),
    ({"operation": "list", "aws_region": "us-east-1\n::error::x"}, "aws-region"),
    ({"operation": "list", "keep_last": "1\n::error::x"}, "keep-last"),
]


@pytest.mark.parametrize(("inputs", "field"), FAILING)
def test_a_hostile_input_fails_with_one_escaped_error(workspace, silent, inputs, field):
    step = Runner(workspace).step(bucket="hostile", endpoint_url=silent.url, **inputs)
    assert step.returncode == 1 and step.outputs == {}
    assert_nothing_forged(step, errors=1)
    assert field in step.errors[0] and "Traceback" not in step.stderr
    headings, rows = summary_blocks(step.summary)
    assert headings == [headings[0]] and headings[0].endswith("failed") and rows == []
    assert silent.accepted == 0  # refused before any request


def test_a_hostile_error_from_the_server_is_escaped(workspace):
    server = CannedServer(
        400,
        b"<Error><Code>Bad\n::error::code</Code><Message>boom\n::add-mask::x\r\n"
        b"##[set-output name=a;]b</Message><RequestId>1</RequestId></Error>",
    )
    try:
        step = Runner(workspace).step(operation="list", bucket="hostile", endpoint_url=server.url)
    finally:
        server.close()
    assert step.returncode == 1
    assert_nothing_forged(step, errors=1)
    assert "boom%0A::add-mask::x" in step.errors[0]
    assert summary_blocks(step.summary)[1] == []


def test_a_hostile_name_of_an_undeclared_input_is_escaped(workspace, silent):
    runner = Runner(workspace, **{"INPUT_X\n::ERROR::FORGED": "1"})
    step = runner.step(operation="list", bucket="hostile", endpoint_url=silent.url)
    assert step.returncode == 1
    assert_nothing_forged(step, errors=1)
    assert "is not an input of this action" in step.errors[0]


def test_a_traceback_is_escaped_line_by_line(monkeypatch, capsys):
    def explode(request):
        try:
            raise ValueError("inner" + FORGERIES)
        except ValueError as err:
            raise RuntimeError("outer" + FORGERIES) from err

    monkeypatch.setattr(action, "run", explode)
    environ = {"INPUT_OPERATION": "list", "INPUT_BUCKET": "hostile"}
    assert action.main(environ) == 1
    out, err = capsys.readouterr()
    assert "Traceback" in err and "\\::error::forged" in err
    assert command_lines(err) == []
    errors = [line for line in command_lines(out) if line.startswith("::error")]
    assert all(OWN_COMMAND.match(line) for line in command_lines(out))
    assert len(errors) == 1 and errors[0].startswith("::error title=versioned-action list failed")


def test_plain_lines_and_cells_never_start_a_command():
    for value in ("::error::x", "  ::error::x", "\t::x::y", "a\n::x", "a ##[add-mask]b"):
        line = escape_line(value)
        assert not re.match(r"\s*::", line) and "##[" not in line
        assert RUNNER_LINE_BREAK.split(line) == [line]
    for value in ("a`b", "`", "``x``", "a|b\\|c", " padded ", "x\ny"):
        assert code_span(table_code(value)) == escape_text(value)
    assert escape_text("100% done\r\n") == "100% done\\r\\n"  # no command data: % stays


# ----- 2. region and endpoint --------------------------------------------------------------


@pytest.mark.parametrize(
    ("inputs", "context", "named"),
    [
        ({"aws_region": "us-east-1\n::error::x"}, {}, "aws-region"),
        ({"aws_region": "not a region"}, {}, "aws-region"),
        ({"endpoint_url": "not a url"}, {}, "endpoint-url"),
        ({"endpoint_url": "ftp://x"}, {}, "endpoint-url"),
        ({"endpoint_url": "http://"}, {}, "endpoint-url"),
        ({"endpoint_url": "http://127.0.0.1:9\n::add-mask::x"}, {}, "endpoint-url"),
        ({}, {"AWS_REGION": "us-east-1\n::error::x"}, "AWS_REGION"),
        ({}, {"AWS_ENDPOINT_URL": "ftp://x"}, "AWS_ENDPOINT_URL"),
        ({}, {"VERSIONED_READ_TIMEOUT": "soon"}, "VERSIONED_READ_TIMEOUT"),
    ],
)
def test_a_bad_region_or_endpoint_fails_before_any_request(
    workspace, silent, inputs, context, named
):
    inputs = {"endpoint_url": silent.url, **inputs} if "AWS_ENDPOINT_URL" not in context else {}
    step = Runner(workspace, **context).step(operation="list", bucket="hostile", **inputs)
    assert step.returncode == 1 and step.outputs == {}
    assert_nothing_forged(step, errors=1)
    assert named in step.errors[0] and "Traceback" not in step.stderr
    assert silent.accepted == 0


GOOD_ENDPOINTS = [
    "http://127.0.0.1:5000",
    "https://s3.eu-central-1.amazonaws.com",
    "http://minio:9000/",
    "http://localstack_main:4566",
    "http://[::1]:9000",
    "https://gateway.example.com/s3",
]
BAD_ENDPOINTS = [
    "not a url",
    "ftp://x",
    "http://",
    "localhost:9000",
    "http://host name",
    "http://127.0.0.1:99999",
    "http://127.0.0.1:",
    "http://user:secret@127.0.0.1:9000",
    "http://127.0.0.1:9000/?x=1",
    "http://127.0.0.1\n::error::x",
    "http://h\u00e9llo",
    "http://[::zz]:1",
    "http://-bad-.example",
]


@pytest.mark.parametrize("value", GOOD_ENDPOINTS)
def test_endpoints_that_are_accepted(value):
    assert aws.endpoint_problem(value) is None


@pytest.mark.parametrize("value", BAD_ENDPOINTS)
def test_endpoints_that_are_refused(value):
    assert aws.endpoint_problem(value)
    with pytest.raises(InvalidInput) as caught:
        aws.AwsSettings.resolve("us-east-1", value)
    assert caught.value.field == "endpoint-url"


@pytest.mark.parametrize(
    ("region", "custom", "ok"),
    [
        ("us-east-1", False, True),
        ("eu-central-1", False, True),
        ("us-gov-west-1", False, True),
        ("cn-north-1", False, True),
        ("eusc-de-east-1", False, True),
        ("us-east1", False, False),
        ("US-EAST-1", False, False),
        ("auto", False, False),
        ("us-east-1\n", False, False),
        ("auto", True, True),
        ("garage", True, True),
        ("nyc3", True, True),
        ("fr-par", True, True),
        ("us-west-004", True, True),
        ("a b", True, False),
        ("x\n::error::y", True, False),
        ("a/b", True, False),
        ("-x", True, False),
        ("x" * 64, True, False),
    ],
)
def test_region_rules(region, custom, ok):
    assert (aws.region_problem(region, custom) is None) == ok


@pytest.mark.parametrize(
    "variable", ["AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"]
)
def test_library_users_get_the_variable_named(monkeypatch, variable):
    monkeypatch.delenv("AWS_REGION")
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.setenv(variable, "bad value\n")
    with pytest.raises(InvalidEnvironment) as caught:
        aws.AwsSettings.resolve(None, None)
    assert caught.value.field == variable and variable in str(caught.value)


def test_local_region_names_need_an_endpoint(monkeypatch):
    with pytest.raises(InvalidInput, match="invalid region"):
        aws.AwsSettings.resolve("local", None)
    assert aws.AwsSettings.resolve("local", "http://127.0.0.1:9").region == "local"
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9")
    assert aws.AwsSettings.resolve("garage", None).region == "garage"
    request = parse(
        {"operation": "list", "bucket": "abc", "aws-region": "garage"},
        dict(AWS_ENDPOINT_URL="http://127.0.0.1:9"),
    )
    assert request.settings.region == "garage"


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"aws-region": "us-east-1 x"}, "aws-region"),
        ({"endpoint-url": "http://"}, "endpoint-url"),
        ({"aws-region": "local"}, "aws-region"),
    ],
)
def test_parse_refuses_bad_settings(values, field):
    with pytest.raises(InvalidInput) as caught:
        parse({"operation": "list", "bucket": "abc", **values}, {})
    assert caught.value.field == field


# ----- 3. undeclared inputs and booleans ---------------------------------------------------


def test_the_action_reads_exactly_the_inputs_of_action_yml():
    assert len(set(action.INPUT_NAMES)) == len(action.INPUT_NAMES)
    assert set(action.INPUT_NAMES) == set(action_metadata()["inputs"])


@pytest.mark.parametrize(
    ("variable", "message"),
    [
        ("INPUT_VERISON", "input verison is not an input of this action; did you mean version?"),
        ("INPUT_ALIASES", "input aliases is not an input of this action; did you mean alias?"),
        ("INPUT_DRY_RUNN", "input dry_runn is not an input of this action; did you mean dry-run?"),
    ],
)
def test_an_undeclared_input_fails_the_step(workspace, silent, variable, message):
    step = Runner(workspace, **{variable: "3"}).step(
        operation="list", bucket="typos", endpoint_url=silent.url
    )
    assert step.returncode == 1 and step.outputs == {}
    assert len(step.errors) == 1 and step.errors[0].endswith(f"::{message}")
    assert silent.accepted == 0


def test_declared_inputs_pass_in_either_form():
    names = action.INPUT_NAMES
    check_declared({"INPUT_ENDPOINT_URL": "x", "INPUT_ENDPOINT-URL": "y", "PATH": "/"}, names)
    check_declared({f"INPUT_{n.upper()}": "" for n in names}, names)
    check_declared({f"INPUT_{n.upper().replace('-', '_')}": "" for n in names}, names)
    with pytest.raises(UnknownInput, match="nor are: zzz"):
        check_declared({"INPUT_VERISON": "1", "INPUT_ZZZ": "2"}, names)


@pytest.mark.parametrize("field", ["publish", "provenance", "create-resources"])
@pytest.mark.parametrize("value", ["yes", "no", "1", "0", "on", "tRUE", "y"])
def test_booleans_accept_only_what_the_toolkit_accepts(tmp_path, field, value):
    (tmp_path / "a.bin").write_bytes(b"a")
    values = {"operation": "put", "bucket": "abc", "name": "a", "path": str(tmp_path / "a.bin")}
    with pytest.raises(InvalidInput) as caught:
        parse({**values, field: value}, {})
    assert caught.value.field == field


def test_the_cli_names_a_bad_variable(monkeypatch):
    from click.testing import CliRunner

    from versioned_action.cli import main

    monkeypatch.setenv("VERSIONED_MAX_ATTEMPTS", "many")
    result = CliRunner().invoke(
        main, ["--bucket", "abc", "--endpoint-url", "http://127.0.0.1:9", "list"]
    )
    assert result.exit_code == 2
    assert "invalid environment variable VERSIONED_MAX_ATTEMPTS" in result.output
    assert "--VERSIONED" not in result.output
