"""Contract: tracing is installed only when the standard ``OTEL_*`` variables configure an
exporter (``otlp``, ``console``; an OTLP endpoint alone means ``otlp``), and a value this
installation cannot honour is refused with one line naming the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from frontdesk.trace_export import TracingConfigError, exporter_names


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, []),
        ({"OTEL_TRACES_EXPORTER": "none"}, []),
        ({"OTEL_TRACES_EXPORTER": " "}, []),
        ({"OTEL_TRACES_EXPORTER": "otlp"}, ["otlp"]),
        ({"OTEL_TRACES_EXPORTER": "Console, otlp,console"}, ["console", "otlp"]),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}, ["otlp"]),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:4318/v1/traces"}, ["otlp"]),
        ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://x"}, []),
        ({"OTEL_TRACES_EXPORTER": "otlp", "OTEL_SDK_DISABLED": "true"}, []),
        (
            {"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"},
            ["otlp"],
        ),
        (
            {
                "OTEL_TRACES_EXPORTER": "otlp",
                "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/protobuf",
                "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",  # the traces-specific one wins
            },
            ["otlp"],
        ),
        ({"OTEL_TRACES_EXPORTER": "console", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, ["console"]),
    ],
)
def test_exporters_from_the_environment(env: dict[str, str], expected: list[str]) -> None:
    assert exporter_names(env) == expected


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"OTEL_TRACES_EXPORTER": "jaeger"}, "OTEL_TRACES_EXPORTER='jaeger': unknown exporter"),
        ({"OTEL_TRACES_EXPORTER": "otlp,zipkin"}, "unknown exporter 'zipkin'"),
        ({"OTEL_TRACES_EXPORTER": "none,otlp"}, "none cannot be combined"),
        (
            {"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"},
            "OTEL_EXPORTER_OTLP_PROTOCOL='grpc': only http/protobuf is supported",
        ),
    ],
)
def test_unsupported_values_are_refused_in_one_line(env: dict[str, str], message: str) -> None:
    with pytest.raises(TracingConfigError) as caught:
        exporter_names(env)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


_SCRIPT = """
from opentelemetry import trace
from frontdesk.trace_export import install_tracing
provider = install_tracing("frontdesk-test")
print("installed" if provider is not None else "not installed", flush=True)
trace.get_tracer("t").start_span("hello").end()
"""


def _run(env: dict[str, str]) -> str:
    import os
    import subprocess
    import sys

    clean = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT],
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return done.stdout


def test_console_exporter_prints_spans_at_exit() -> None:
    out = _run({"OTEL_TRACES_EXPORTER": "console"})
    assert out.startswith("installed")
    assert '"name": "hello"' in out
    assert '"service.name": "frontdesk-test"' in out


def test_no_exporter_installs_nothing() -> None:
    assert _run({}) == "not installed\n"


def test_otel_service_name_wins() -> None:
    out = _run({"OTEL_TRACES_EXPORTER": "console", "OTEL_SERVICE_NAME": "pms-web"})
    assert '"service.name": "pms-web"' in out


def test_worker_and_relay_refuse_a_bad_exporter_in_one_line(tmp_path: Path) -> None:
    """An operator's typo in ``OTEL_*`` stops the process at start, saying which variable,
    never with a traceback (no broker is reached: the check comes first)."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "OTEL_TRACES_EXPORTER": "jaeger", "FD_TEST_DB": str(tmp_path / "db")}
    commands = [
        [sys.executable, "-m", "frontdesk.worker", "tests.support.apps:app"],
        [
            sys.executable,
            "-m",
            "frontdesk",
            "outbox",
            "relay",
            "--db",
            f"sqlite:///{tmp_path}/o.db",
        ],
    ]
    for command in commands:
        done = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=60, check=False
        )
        output = done.stdout + done.stderr
        assert done.returncode == 1, output
        assert "OTEL_TRACES_EXPORTER='jaeger': unknown exporter 'jaeger'" in output
        assert "Traceback" not in output
