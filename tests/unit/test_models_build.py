"""Every pydantic model of the package builds its validator, and the domain's are declared as a cold start reads them
fastest. Most are built only at first use (defer_build), and an
import needed only by type checkers sits under TYPE_CHECKING (a cold start does not pay for it): a model whose field
names a type its module imports only there would fail at the first message it validates, in production. This builds
them all now."""

import importlib
import inspect
import pkgutil
import sys

from pydantic import BaseModel

import loyalty


def _models() -> list[type[BaseModel]]:
    """Every model the package's modules define."""
    names = [module.name for module in pkgutil.walk_packages(loyalty.__path__, "loyalty.")]
    for name in names:
        importlib.import_module(name)
    return [value for name in names for value in vars(sys.modules[name]).values()
            if inspect.isclass(value) and issubclass(value, BaseModel) and value.__module__ == name]


def test_every_model_of_the_package_builds_with_the_names_its_module_has_at_run_time() -> None:
    models = _models()
    failures = {}
    for model in models:
        try:
            model.model_rebuild(force=True, raise_errors=True)
        except Exception as error:
            failures[f"{model.__module__}.{model.__qualname__}"] = str(error).splitlines()[0]
    assert len(models) > 200 and not failures, failures


def test_the_domains_models_read_their_annotations_as_written_not_as_strings_to_evaluate() -> None:
    """`from __future__ import annotations` turns every field's type into a string that pydantic compiles and
    evaluates as the class is made: a quarter of what making a model costs, and a model module is imported at every
    cold start. The domain's, the messages' and the settings' model modules do without it (a name defined further
    down is quoted where it is used)."""
    postponed = sorted({model.__module__ for model in _models() if hasattr(sys.modules[model.__module__], "annotations")
                        and model.__module__.startswith(("loyalty.domain.", "loyalty.contracts", "loyalty.settings"))})
    assert not postponed
