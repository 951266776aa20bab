"""The sites' view of the world: sandbox.world.store's reader, which owns world.db's reads."""

from sandbox.world.store import Site, World, like_escape, site_url

__all__ = ["Site", "World", "like_escape", "site_url"]
