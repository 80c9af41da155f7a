"""The Apache Avro Java reference implementation, run as the other side of a cross-check.

`tests/java/pom.xml` names Avro and its runtime dependencies; `mvn dependency:copy-dependencies`
resolves them from Maven Central once and they are cached by version under
`~/.cache/frontdesk/avro-<version>/libs`, as the broker's jars are.
`tests/java/AvroCrossCheck.java` is compiled with `javac` into a cache directory keyed by
the hash of its source and the pom, and run once per request: one JVM launch does all the
work of a test run.

A missing `java`, `javac` or `mvn` fails the test that needs them (the broker needs the same
JDK and Maven, `make system-deps` installs them): a cross-check that skips proves nothing.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

AVRO_VERSION = "1.12.0"
SOURCE_DIR = Path(__file__).resolve().parents[1] / "java"
MAIN_CLASS = "AvroCrossCheck"
CACHE = Path.home() / ".cache" / "frontdesk"


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(
            f"`{name}` is not on PATH; the Avro Java cross-check needs a JDK and Maven "
            "(Debian: apt-get install default-jdk-headless maven, or make system-deps)",
            pytrace=False,
        )
    return path


def _run(cmd: list[str], what: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=600)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-20:])
        pytest.fail(f"{what} failed (exit {proc.returncode}):\n{tail}", pytrace=False)
    return proc


def _cached(target: Path, build: Callable[[Path], None]) -> Path:
    """`target`, built by `build` into a fresh directory on first use and renamed into
    place whole, so that concurrent test runs never see (or remove) a half-built one."""
    if target.is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        build(work)
        work.rename(target)
    except OSError:
        if not target.is_dir():  # not merely another run finishing first
            raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target


def avro_libs() -> Path:
    """The directory of Avro's jars, resolved from Maven Central on first use."""

    def resolve(libs: Path) -> None:
        _run(
            [_tool("mvn"), "-B", "-q", "-f", str(SOURCE_DIR / "pom.xml"),
             "dependency:copy-dependencies", "-DincludeScope=runtime",
             f"-Davro.version={AVRO_VERSION}", f"-DoutputDirectory={libs}"],
            f"resolving org.apache.avro:avro:{AVRO_VERSION} with mvn",
        )  # fmt: skip
        if not (libs / f"avro-{AVRO_VERSION}.jar").exists():
            pytest.fail(f"mvn did not bring avro-{AVRO_VERSION}.jar", pytrace=False)

    return _cached(CACHE / f"avro-{AVRO_VERSION}" / "libs", resolve)


def _classes(libs: Path) -> Path:
    """The compiled checker, cached by the hash of its source and its pom."""
    source = SOURCE_DIR / f"{MAIN_CLASS}.java"
    digest = hashlib.sha256(source.read_bytes() + (SOURCE_DIR / "pom.xml").read_bytes())

    def compile_into(classes: Path) -> None:
        _run(
            [_tool("javac"), "-nowarn", "-cp", str(libs / "*"), "-d", str(classes), str(source)],
            f"compiling {source.name}",
        )

    return _cached(CACHE / "avro-crosscheck" / digest.hexdigest()[:16], compile_into)


def run_checker(request: dict[str, Any]) -> dict[str, Any]:
    """Java's answer to `request` (see AvroCrossCheck.java for both formats)."""
    libs = avro_libs()
    classes = _classes(libs)
    java = _tool("java")
    with tempfile.TemporaryDirectory(prefix="avro-crosscheck-") as tmp:
        request_path, response_path = Path(tmp) / "request.json", Path(tmp) / "response.json"
        request_path.write_text(json.dumps(request))
        classpath = f"{classes}:{libs / '*'}"
        _run(
            [java, "-cp", classpath, MAIN_CLASS, str(request_path), str(response_path)],
            "the Avro Java cross-check",
        )
        response: dict[str, Any] = json.loads(response_path.read_text())
    return response
