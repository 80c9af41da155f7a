"""The operational deployment: booking ledger, housekeeping, maintenance, payments."""
