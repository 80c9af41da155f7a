"""Producer-side apps built on `frontdesk`: the PMS traffic simulator and the outbox relay."""
