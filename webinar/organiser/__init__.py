"""The organiser area and organiser accounts."""
