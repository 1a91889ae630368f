"""The business: entities, value objects and rules. Standard library only."""
