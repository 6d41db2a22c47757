"""Registrations: signing up, changing details, cancelling, the waiting list."""
