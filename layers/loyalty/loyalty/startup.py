"""A function's cold start collects no garbage while its modules load.

Loading the modules makes hundreds of thousands of objects that live as long as the container, and Python's
collector would scan them again and again as they pile up: a quarter of a cold import (`make bench`). The handler
module imports this before anything else (isort keeps it first: its own section in pyproject.toml) and calls
`ready()` once it has loaded. The loaded objects are then frozen out of every later collection, so a request's
collections scan only what requests make, and collection goes on as usual.
"""

import gc

gc.disable()


def ready() -> None:
    gc.freeze()
    gc.enable()
