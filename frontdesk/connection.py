"""Which cluster this process talks to: one answer for the CLI, the SDK and the workers.

``FRONTDESK_BOOTSTRAP_SERVERS`` (an existing cluster) wins; otherwise the local broker
started by ``frontdesk broker start`` in the default data dir is used.
"""

from __future__ import annotations

from typing import Any

from frontdesk.broker.local import LocalBroker
from frontdesk.settings import Settings


class NoClusterError(RuntimeError):
    """Neither a cluster address nor a running local broker was found."""


def default_broker(settings: Settings) -> LocalBroker:
    return LocalBroker(settings.home / "broker", cache_dir=settings.cache_dir)


def client_config(settings: Settings | None = None) -> dict[str, Any]:
    """``bootstrap.servers`` plus security settings for any librdkafka client."""
    settings = settings or Settings()
    if settings.bootstrap_servers:
        return {
            "bootstrap.servers": settings.bootstrap_servers,
            "client.id": settings.client_id,
            **settings.security_config(),
        }
    state = default_broker(settings).status()
    if state is None:
        raise NoClusterError(
            "no Kafka cluster configured: set FRONTDESK_BOOTSTRAP_SERVERS, or start the "
            "embedded broker with `frontdesk broker start`"
        )
    return {**state.client_config(), "client.id": settings.client_id}
