"""Built-in scenarios, the scenario format's reference and its schema."""
