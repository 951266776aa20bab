"""`python -m sandbox.workers CONFIG`: the gunicorn master of a world's sites."""

import sys

from .gunicorn_app import main

main(sys.argv[1:])
