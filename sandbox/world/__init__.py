"""Generating and reading world.db, the one file a whole sandbox world lives in."""
