"""Message templates per tenant, over a default set: ``<root>/<tenant>/<template>.txt``
wins over ``<root>/default/<template>.txt``.

Templates are `string.Template` text (``$guest_name``), deliberately not a language: they
are written by tenants, so rendering must not run code, and a placeholder the request did
not fill must fail loudly rather than send "Hello ," to a guest. An optional first line
``Subject: ...`` (followed by a blank line) gives the subject. Files are read on every
render so an operator's fix applies to the next message without a redeploy.

An unknown template or a missing value is the request's fault: `TemplateError`, which is
non-retryable (the DLQ shows which template or placeholder).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from string import Template

from consumers.common.errors import NonRetryableError

DEFAULT = "default"
TEMPLATE_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
"""What a template id may look like: it becomes a file name, so no dots or slashes."""


class TemplateError(NonRetryableError):
    """The template does not exist or cannot be filled from the request's variables."""


@dataclass(frozen=True, slots=True)
class Rendered:
    template_id: str
    subject: str | None
    body: str
    source: Path
    """The file used: the tenant's own, or the default."""


class Templates:
    """The template library under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def find(self, tenant_id: str, template_id: str) -> Path:
        if not TEMPLATE_ID.match(template_id):
            raise TemplateError(f"invalid template id {template_id!r}")
        for owner in (tenant_id, DEFAULT):
            path = self.root / owner / f"{template_id}.txt"
            if path.is_file():
                return path
        raise TemplateError(
            f"no template {template_id!r} for tenant {tenant_id} (looked in "
            f"{self.root / tenant_id} and {self.root / DEFAULT})"
        )

    def render(self, tenant_id: str, template_id: str, variables: Mapping[str, str]) -> Rendered:
        path = self.find(tenant_id, template_id)
        subject, body = _split(path.read_text(encoding="utf-8"))
        return Rendered(
            template_id,
            None if subject is None else _fill(subject, variables, path),
            _fill(body, variables, path),
            path,
        )


def _split(text: str) -> tuple[str | None, str]:
    first, sep, rest = text.partition("\n")
    if first.startswith("Subject:") and sep:
        return first.removeprefix("Subject:").strip(), rest.lstrip("\n")
    return None, text


def _fill(text: str, variables: Mapping[str, str], path: Path) -> str:
    try:
        return Template(text).substitute(variables).strip()
    except KeyError as exc:
        raise TemplateError(f"{path}: no value for placeholder ${exc.args[0]}") from exc
    except ValueError as exc:
        raise TemplateError(f"{path}: {exc}") from exc


__all__ = ["DEFAULT", "Rendered", "TemplateError", "Templates"]
