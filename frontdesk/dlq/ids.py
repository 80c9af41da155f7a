"""The stable id of a dead letter: ``<topic>:<partition>:<offset>``.

Kafka cannot delete or rewrite one record, so a dead letter is named by where it sits; the
name never changes while the record exists and is what the CLI, the console URLs and the
review-state topic all use. Kafka topic names cannot contain ``:``, so the id splits
unambiguously from the right.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TOPIC_RE = re.compile(r"^[A-Za-z0-9._-]{1,249}$")


@dataclass(frozen=True, slots=True, order=True)
class DeadLetterId:
    """Where a dead letter sits; sorts by topic, partition, offset."""

    topic: str
    partition: int
    offset: int

    def __str__(self) -> str:
        return f"{self.topic}:{self.partition}:{self.offset}"

    @classmethod
    def parse(cls, text: str) -> DeadLetterId:
        """Parse ``topic:partition:offset``; a clear ValueError for anything else."""
        topic, sep1, rest = text.strip().partition(":")
        partition, sep2, offset = rest.partition(":")
        if not (sep1 and sep2) or not _TOPIC_RE.match(topic):
            raise ValueError(
                f"invalid dead-letter id {text!r}: expected <topic>:<partition>:<offset>"
            )
        if not all(p.isascii() and p.isdigit() for p in (partition, offset)):
            raise ValueError(
                f"invalid dead-letter id {text!r}: partition and offset must be whole numbers"
            )
        return cls(topic, int(partition), int(offset))
