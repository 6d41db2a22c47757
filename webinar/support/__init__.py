"""Support requests: schools and boards ask Leren verbeteren for an adviser's help."""
