"""Process-wide settings, read once from ``FRONTDESK_*`` variables and an optional file.

Every entry point (CLI, worker, producer embedded in a PMS) takes its Kafka coordinates from
here so that one environment variable points the whole product at another cluster.
Precedence: explicit arguments > environment > ``frontdesk.toml`` (or the file named by
``FRONTDESK_SETTINGS_FILE``) > defaults.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]


def _default_topology() -> Path:
    return Path("deploy/topology.yaml")


class Settings(BaseSettings):
    """Where Kafka is and how to talk to it."""

    model_config = SettingsConfigDict(env_prefix="FRONTDESK_", extra="ignore")

    bootstrap_servers: str | None = Field(
        default=None,
        description="An existing cluster; when unset, the local broker started by "
        "`frontdesk broker start` is used.",
    )
    security_protocol: SecurityProtocol = "PLAINTEXT"
    sasl_mechanism: str = "SCRAM-SHA-512"
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_ca_location: Path | None = None
    topology: Path = Field(default_factory=_default_topology)
    client_id: str = "frontdesk"
    home: Path = Field(
        default_factory=lambda: Path.home() / ".local" / "share" / "frontdesk",
        description="Local state: the embedded broker's data and its state file.",
    )
    health_stale_after: float = Field(
        default=15.0,
        gt=0,
        description="Seconds without a beat of its loop after which a worker or relay "
        "answers /healthz with 503.",
    )
    cache_dir: Path = Field(
        default_factory=lambda: Path.home() / ".cache" / "frontdesk",
        description="Downloaded Kafka jars, keyed by version.",
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_file = Path(os.environ.get("FRONTDESK_SETTINGS_FILE", "frontdesk.toml"))
        return (
            init_settings,
            env_settings,
            TomlConfigSettingsSource(settings_cls, toml_file=toml_file),
        )

    def security_config(self) -> dict[str, Any]:
        """librdkafka security properties, shared by every client this process makes."""
        conf: dict[str, Any] = {"security.protocol": self.security_protocol}
        if self.security_protocol.startswith("SASL"):
            conf["sasl.mechanism"] = self.sasl_mechanism
            if self.sasl_username is not None:
                conf["sasl.username"] = self.sasl_username
            if self.sasl_password is not None:
                conf["sasl.password"] = self.sasl_password.get_secret_value()
        if self.ssl_ca_location is not None:
            conf["ssl.ca.location"] = str(self.ssl_ca_location)
        return conf
