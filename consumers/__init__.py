"""The platform's consumer deployments, one package per queue type.

Every deployment has the same anatomy so the next one is written by reading the first:
``app.py`` wires a `frontdesk.App` to handlers that are one call each; the work itself
lives in plain modules (stores, clients, templates) tested without Kafka. Shared plumbing
(the store connection, settings, the error vocabulary, HTTP error mapping) is in
`consumers.common`. See docs/consumers.md.
"""
