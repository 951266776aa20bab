"""Serve one site for development: python -m marketplaces WORLD SITE_ID [--state F] [--port N]."""

from __future__ import annotations

import argparse

from . import create_site_app


def main() -> None:
    """Parse the arguments and run the site on 127.0.0.1 with Flask's development server."""
    parser = argparse.ArgumentParser(
        prog="python -m marketplaces",
        description="Serve one hidden service of a world on 127.0.0.1 (development only).",
        epilog="Example: python -m marketplaces world.db market --port 8001",
    )
    parser.add_argument("world", help="the world file (sandbox build)")
    parser.add_argument("site", help="the site id")
    parser.add_argument(
        "--state", default="state.db", help="trainee state file (default: state.db)"
    )
    parser.add_argument("--port", type=int, default=8000, help="port on 127.0.0.1 (default: 8000)")
    args = parser.parse_args()
    app = create_site_app(args.world, args.site, args.state)
    app.run(host="127.0.0.1", port=args.port, threaded=True)


if __name__ == "__main__":
    main()
