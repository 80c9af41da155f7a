"""The Apache Avro Java reference implementation, run as the other side of a cross-check.

`tests/java/pom.xml` names Avro and its runtime dependencies; `mvn dependency:copy-dependencies`
resolves them from Maven Central once and they are cached by version under
`~/.cache/frontdesk/avro-<version>/libs`, as the broker's jars are. `tests/java/AvroCrossCheck.java`
is compiled with `javac` into a cache directory keyed by the hash of its source and the pom,
and run once per request: one JVM launch does all the work of a test run.

A missing `java`, `javac` or `mvn` fails the test that needs them (the broker needs the same
JDK and Maven, `make system-deps` installs them): a cross-check that skips proves nothing.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest

AVRO_VERSION = "1.12.0"
SOURCE_DIR = Path(__file__).resolve().parents[1] / "java"
MAIN_CLASS = "AvroCrossCheck"
CACHE = Path.home() / ".cache" / "frontdesk"
_COMPLETE = ".complete"


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


def avro_libs() -> Path:
    """The directory of Avro's jars, resolved from Maven Central on first use."""
    target = CACHE / f"avro-{AVRO_VERSION}"
    libs = target / "libs"
    if (target / _COMPLETE).exists():
        return libs
    mvn = _tool("mvn")
    target.mkdir(parents=True, exist_ok=True)
    if libs.exists():
        shutil.rmtree(libs)  # a half-finished earlier download
    pom = SOURCE_DIR / "pom.xml"
    _run(
        [mvn, "-B", "-q", "-f", str(pom), "dependency:copy-dependencies",
         "-DincludeScope=runtime", f"-Davro.version={AVRO_VERSION}",
         f"-DoutputDirectory={libs}"],
        f"resolving org.apache.avro:avro:{AVRO_VERSION} with mvn",
    )  # fmt: skip
    if not (libs / f"avro-{AVRO_VERSION}.jar").exists():
        pytest.fail(f"mvn did not bring avro-{AVRO_VERSION}.jar into {libs}", pytrace=False)
    (target / _COMPLETE).write_text(AVRO_VERSION)
    return libs


def _classes(libs: Path) -> Path:
    """The compiled checker, cached by the hash of its source and its pom."""
    source = SOURCE_DIR / f"{MAIN_CLASS}.java"
    digest = hashlib.sha256(source.read_bytes() + (SOURCE_DIR / "pom.xml").read_bytes())
    target = CACHE / "avro-crosscheck" / digest.hexdigest()[:16]
    classes = target / "classes"
    if (target / _COMPLETE).exists():
        return classes
    javac = _tool("javac")
    if classes.exists():
        shutil.rmtree(classes)
    classes.mkdir(parents=True)
    _run(
        [javac, "-nowarn", "-cp", str(libs / "*"), "-d", str(classes), str(source)],
        f"compiling {source.name}",
    )
    (target / _COMPLETE).write_text(source.name)
    return classes


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
