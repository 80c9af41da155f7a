"""Where the deployments keep state and which external systems they call, from the env.

Read from ``FRONTDESK_*`` variables like the rest of frontdesk, so one environment
configures the worker runtime and the deployment it runs.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from frontdesk.events import Channel

DEFAULT_TEMPLATES = Path(__file__).resolve().parent.parent / "automation" / "templates"


class ConsumerSettings(BaseSettings):
    """Configuration shared by every consumer deployment; see docs/consumers.md."""

    model_config = SettingsConfigDict(env_prefix="FRONTDESK_", extra="ignore")

    store_url: str = Field(
        default="sqlite:///var/consumers.db",
        description="sqlite:///path.db or postgresql://...; every deployment's tables.",
    )
    ota_url: str = Field(
        default="http://127.0.0.1:8081", description="Base URL of the channel's OTA API."
    )
    ota_channel: Channel = Field(
        default=Channel.BOOKING_COM,
        description="The channel this sync deployment pushes to (one deployment per channel, "
        "so each has its own circuit breaker).",
    )
    messaging_url: str = Field(
        default="http://127.0.0.1:8082", description="Base URL of the messaging provider."
    )
    messaging_fallback_url: str | None = Field(
        default=None,
        description="A secondary messaging provider the fallback deployment sends through; "
        "unset to keep diverted messages in the outbox until the primary recovers.",
    )
    templates_dir: Path = Field(
        default=DEFAULT_TEMPLATES,
        description="Message templates: <dir>/<tenant>/<template>.txt over <dir>/default/.",
    )
    auto_acknowledge: bool = Field(
        default=True,
        description="Acknowledge a guest's message automatically (template message-received) "
        "unless someone wrote to the guest in that conversation recently.",
    )
    http_timeout: float = Field(
        default=10.0, gt=0, description="Seconds before an external call counts as failed."
    )
    emit_events: bool = Field(
        default=False,
        description="Publish follow-up events (e.g. CleaningTaskScheduled) with the producer.",
    )


__all__ = ["ConsumerSettings"]
