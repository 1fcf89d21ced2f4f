"""Storage: tortoise models, connection set-up and migrations."""
