"""Find a Kafka broker distribution: ``KAFKA_HOME`` first, else the jars from Maven Central.

The Maven route uses the pom shipped in this package and caches the classpath by version
outside the repo, so only the first start on a machine downloads anything.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from frontdesk.broker.errors import DownloadError, MissingToolError

DEFAULT_KAFKA_VERSION = "4.4.0"
_COMPLETE_MARKER = ".complete"


@dataclass(frozen=True, slots=True)
class Distribution:
    """A usable broker classpath."""

    libs: Path
    version: str
    origin: str  # "KAFKA_HOME" or "maven"

    @property
    def classpath(self) -> str:
        return str(self.libs / "*")


def require_tool(name: str, purpose: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise MissingToolError(
            f"`{name}` is not on PATH; it is needed to {purpose}. Install it "
            f"(Debian: apt-get install {'default-jdk-headless' if name == 'java' else 'maven'}) "
            "or point FRONTDESK_BOOTSTRAP_SERVERS at an existing cluster."
        )
    return path


def _version_in(libs: Path) -> str | None:
    for jar in libs.glob("kafka_2.13-*.jar"):
        match = re.fullmatch(r"kafka_2\.13-(\d+\.\d+\.\d+)\.jar", jar.name)
        if match:
            return match.group(1)
    return None


def from_kafka_home(kafka_home: Path) -> Distribution:
    libs = kafka_home / "libs"
    version = _version_in(libs)
    if version is None:
        raise DownloadError(
            f"KAFKA_HOME={kafka_home} does not look like an unpacked Apache Kafka release "
            "(no libs/kafka_2.13-<version>.jar)"
        )
    return Distribution(libs, version, "KAFKA_HOME")


def from_maven(cache_dir: Path, version: str = DEFAULT_KAFKA_VERSION) -> Distribution:
    """Resolve (once) and return the cached classpath of Kafka ``version``."""
    target = cache_dir / f"kafka-{version}"
    libs = target / "libs"
    if (target / _COMPLETE_MARKER).exists():
        return Distribution(libs, version, "maven")
    mvn = require_tool("mvn", "download the Kafka broker jars from Maven Central")
    target.mkdir(parents=True, exist_ok=True)
    pom = target / "pom.xml"
    pom.write_bytes(resources.files("frontdesk.broker").joinpath("pom.xml").read_bytes())
    if libs.exists():
        shutil.rmtree(libs)  # a half-finished earlier download
    cmd = [
        mvn, "-B", "-q", "-f", str(pom), "dependency:copy-dependencies",
        "-DincludeScope=runtime", f"-Dkafka.version={version}", f"-DoutputDirectory={libs}",
    ]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0 or _version_in(libs) != version:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
        raise DownloadError(
            f"could not download Kafka {version} from Maven Central (mvn exit "
            f"{proc.returncode}). Check network access to the Maven registry, or set KAFKA_HOME "
            f"to an unpacked Kafka release.\n{tail}"
        )
    (target / _COMPLETE_MARKER).write_text(version)
    return Distribution(libs, version, "maven")


def resolve(cache_dir: Path, version: str = DEFAULT_KAFKA_VERSION) -> Distribution:
    """``KAFKA_HOME`` when set, else the Maven jars."""
    kafka_home = os.environ.get("KAFKA_HOME")
    if kafka_home:
        return from_kafka_home(Path(kafka_home))
    return from_maven(cache_dir, version)
