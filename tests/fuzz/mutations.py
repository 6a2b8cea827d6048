"""A real document (a program file, a receipt) with a few of its values swapped for hostile ones or removed."""

import copy
from collections.abc import Iterator
from typing import Any

from hypothesis import strategies as st


def paths(node: Any, path: Any = ()) -> Iterator[Any]:
    """Every path into `node`: dict keys and list indexes."""
    yield path
    if isinstance(node, dict):
        for key, value in node.items():
            yield from paths(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from paths(value, (*path, index))


@st.composite
def mutated(draw: st.DrawFn, documents: list[Any], hostile: st.SearchStrategy[Any], most: int = 3) -> Any:
    """One of `documents`, deep-copied, with 1 to `most` values replaced by a `hostile` one or their key removed."""
    document = copy.deepcopy(draw(st.sampled_from(documents)))
    places = [path for path in paths(document) if path]
    for _ in range(draw(st.integers(1, most))):
        path = draw(st.sampled_from(places))
        parent = document
        try:
            for key in path[:-1]:
                parent = parent[key]
            if draw(st.booleans()) and isinstance(parent, dict):
                parent.pop(path[-1], None)
            else:
                parent[path[-1]] = draw(hostile)
        except (KeyError, IndexError, TypeError):  # an earlier mutation took this path away
            continue
    return document
