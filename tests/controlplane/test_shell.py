"""The one pretend shell, as exec runs it (strict) and as a container's program (trusting)."""

from datetime import UTC, datetime

import pytest

from controlplane import runtime, shell

POD = {"metadata": {"name": "web", "namespace": "shop"}}
CONTAINER = {
    "name": "app",
    "image": "busybox:1.36",
    "command": ["sh", "-c", "sleep infinity"],
    "env": [{"name": "MODE", "value": "strict"}],
}
FILES = {"/etc/settings/colour": "blue", "/etc/settings/size": "L\n", "/etc/hostname": "web\n"}


def _exec(script: str) -> tuple[list[tuple[str, object]], int]:
    box = shell.Box(pod=POD, container=CONTAINER, files=FILES)
    runner = shell.Shell(box, trusting=False, clock=datetime(2026, 11, 30, 9, tzinfo=UTC))
    events = list(runner.run(script))
    return events, runner.code


def _out(script: str) -> list[object]:
    return [value for kind, value in _exec(script)[0] if kind == "out"]


def test_files_and_directories_of_the_container():
    assert _out("cat /etc/settings/colour /etc/settings/size") == ["blue", "L"]
    assert _out("ls /etc/settings") == ["colour", "size"]
    assert _out("ls /") == ["etc"]
    events, code = _exec("cat /etc/nope")
    assert events == [("err", "cat: can't open '/etc/nope': No such file or directory")]
    assert code == 1


def test_unknown_commands_are_not_found_with_127():
    events, code = _exec("curl example.com")
    assert events == [("err", "sh: curl: not found")]
    assert code == 127
    assert _exec("tar cf - /etc")[1] == 127


@pytest.mark.parametrize(
    ("script", "printed", "code"),
    [
        ("echo a; echo b", ["a", "b"], 0),
        ("false && echo no", [], 1),
        ("false || echo yes", ["yes"], 0),
        ("echo 'a;b' && exit 7; echo never", ["a;b"], 7),
        ("echo $MODE ${HOSTNAME} '$MODE'", ["strict web $MODE"], 0),
        ("hostname; pwd", ["web", "/"], 0),
        ("sh -c 'exit 4'; echo $?", ["4"], 0),
    ],
)
def test_statements_breaks_and_expansion(script, printed, code):
    assert _out(script) == printed
    assert _exec(script)[1] == code


def test_env_and_ps_describe_the_container():
    env = _out("env")
    assert "MODE=strict" in env and "HOSTNAME=web" in env
    assert "KUBERNETES_SERVICE_HOST=10.96.0.1" in env
    assert _out("ps")[1].endswith("sh -c sleep infinity")


def test_sleep_is_an_event_the_reader_waits_for():
    events, code = _exec("sleep 2; echo done")
    assert events == [("sleep", 2.0), ("out", "done")]
    assert _exec("sleep infinity")[0] == [("loop", None), ("sleep", None)]


def test_the_runtime_reads_the_same_shell_for_how_long_and_how_it_ends():
    def program(script: str) -> runtime.Program:
        return runtime.program({"image": "busybox", "command": ["sh", "-c", script]})

    assert program("sleep 3 && exit 2") == runtime.Program(3.0, 2)
    assert program("false || sleep 1") == runtime.Program(1.0, 0)
    assert program("while true; do sleep 1; done") == runtime.Program(None, 0)
    # The container's own program trusts its image: its commands exist.
    assert program("python app.py") == runtime.Program(0.0, 0)
