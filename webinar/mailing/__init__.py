"""The floor every domain stands on: the outbox, the registry of mail kinds, composing, and the worker."""
