"""Outgoing mail: the outbox, rendering and the worker that delivers it."""
