"""The hidden services: one Flask app factory per site kind."""
