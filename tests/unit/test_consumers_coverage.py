"""The deployments cover what a PMS sends: every event type of a queue has a handler in that
queue's deployment, and every template the PMS (the simulator) asks for renders with the
default template set and the variables it sends."""

from __future__ import annotations

import importlib
import random
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pytest

from consumers.automation.inbox import ACK_TEMPLATE
from consumers.automation.templates import DEFAULT, Templates
from consumers.common.settings import DEFAULT_TEMPLATES
from frontdesk.events import EVENT_TYPES, Event, NotificationRequested
from frontdesk.queues import QueueType
from frontdesk.worker.app import App
from producers.simulator import Simulation

if TYPE_CHECKING:
    from _typeshed import SupportsLenAndGetItem

REPO = Path(__file__).resolve().parents[2]

DEPLOYMENTS: dict[QueueType, str] = {
    QueueType.OPERATIONAL: "consumers.operational.app",
    QueueType.AUTOMATION: "consumers.automation.app",
    QueueType.SYNC: "consumers.sync.app",
}
if (REPO / "consumers" / "fallback" / "app.py").exists():
    DEPLOYMENTS[QueueType.FALLBACK] = "consumers.fallback.app"

T = TypeVar("T")


def _app(queue: QueueType) -> App:
    app: App = importlib.import_module(DEPLOYMENTS[queue]).app
    return app


def _expected(queue: QueueType) -> set[type[Event]]:
    """The event types a queue's deployment must handle: its queue's, and for the fallback
    deployment also every type another deployment declares a dependency for (the types its
    circuit breaker diverts)."""
    expected = {t for t in EVENT_TYPES.values() if t.queue is queue}
    if queue is QueueType.FALLBACK:
        for other in DEPLOYMENTS:
            if other is not QueueType.FALLBACK:
                expected |= {
                    t
                    for t, h in _app(other).handlers.items()
                    if getattr(h, "dependency", None) is not None
                }
    return expected


@pytest.mark.parametrize("queue", list(DEPLOYMENTS), ids=str)
def test_every_event_type_of_a_queue_has_a_handler_in_its_deployment(queue: QueueType) -> None:
    app = _app(queue)
    assert app.queue is queue
    missing = sorted(t.__name__ for t in _expected(queue) - set(app.handlers))
    assert not missing, f"app {app.name!r} has no handler for {', '.join(missing)}"


def test_every_queue_a_pms_sends_to_has_a_deployment() -> None:
    queues = {t.queue for t in EVENT_TYPES.values()} - {QueueType.FALLBACK}
    assert queues <= set(DEPLOYMENTS)


# -- templates -----------------------------------------------------------------------------


class _Recording(random.Random):
    """A Random that remembers every sequence it was asked to choose from."""

    def __init__(self, seed: int) -> None:
        super().__init__(seed)
        self.offered: list[tuple[Any, ...]] = []

    def choice(self, seq: SupportsLenAndGetItem[T]) -> T:
        self.offered.append(tuple(seq[i] for i in range(len(seq))))
        return super().choice(seq)


def _simulator_templates() -> tuple[set[str], dict[str, str]]:
    """Every template id the simulator may ask for (all the options it chooses from, not
    only those a sample happened to draw), and the variables it sends with them."""
    sim = Simulation(["acme", "sim-tenant-000"], 1, seed=1)
    rng = _Recording(1)
    sim.rng = rng
    event = sim._notification(sim.properties[0])
    assert isinstance(event, NotificationRequested)
    (options,) = [o for o in rng.offered if event.template_id in o]
    return set(options), dict(event.variables)


def _tenants_with_own_templates() -> list[str]:
    return sorted(p.name for p in DEFAULT_TEMPLATES.iterdir() if p.is_dir() and p.name != DEFAULT)


def test_every_template_the_simulator_asks_for_renders_with_the_default_set() -> None:
    template_ids, variables = _simulator_templates()
    assert template_ids  # the simulator does send notifications
    templates = Templates(DEFAULT_TEMPLATES)
    for tenant in ["a-tenant-with-no-templates-of-its-own", *_tenants_with_own_templates()]:
        for template_id in sorted(template_ids):
            rendered = templates.render(tenant, template_id, variables)
            assert rendered.subject
            assert variables["property"] in rendered.body


def test_simulated_traffic_only_asks_for_templates_that_render() -> None:
    template_ids, _ = _simulator_templates()
    templates = Templates(DEFAULT_TEMPLATES)
    requested = [
        e
        for seed in (3, 7)
        for e in Simulation(["acme", "globex"], 3, seed).events(3000)
        if isinstance(e, NotificationRequested)
    ]
    assert {e.template_id for e in requested} == template_ids
    for event in requested:
        templates.render(event.meta.tenant_id, event.template_id, event.variables)


def test_the_acknowledgement_template_renders_with_what_the_inbox_fills_in() -> None:
    rendered = Templates(DEFAULT_TEMPLATES).render(
        "a-tenant", ACK_TEMPLATE, {"property": "p-1", "conversation_id": "C-1", "channel": "sms"}
    )
    assert rendered.subject
    assert "p-1" in rendered.body
