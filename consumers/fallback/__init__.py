"""The fallback deployment: degraded paths for work whose dependency is down.

- channel pushes: keep the changes pending in the sync mirror and push the coalesced latest
  state once the OTA answers again (`DeferredPushes`);
- guest messages: send through a secondary provider, or keep them in the outbox until the
  primary recovers (`DeferredMessages`);
- anything else: a follow-up row for a person (`FollowUps`).
"""
