"""Privacy: removing registrants' personal data, keeping anonymous counts."""
