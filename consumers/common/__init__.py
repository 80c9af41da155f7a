"""Plumbing every consumer deployment shares: store, settings, errors, HTTP mapping."""
