"""Every pydantic model of the package builds its validator. Most are built only at first use (defer_build), and an
import needed only by type checkers sits under TYPE_CHECKING (a cold start does not pay for it): a model whose field
names a type its module imports only there would fail at the first message it validates, in production. This builds
them all now."""

import importlib
import inspect
import pkgutil
import sys

from pydantic import BaseModel

import loyalty


def test_every_model_of_the_package_builds_with_the_names_its_module_has_at_run_time() -> None:
    names = [module.name for module in pkgutil.walk_packages(loyalty.__path__, "loyalty.")]
    for name in names:
        importlib.import_module(name)
    models = [value for name in names for value in vars(sys.modules[name]).values()
              if inspect.isclass(value) and issubclass(value, BaseModel) and value.__module__ == name]
    failures = {}
    for model in models:
        try:
            model.model_rebuild(force=True, raise_errors=True)
        except Exception as error:
            failures[f"{model.__module__}.{model.__qualname__}"] = str(error).splitlines()[0]
    assert len(models) > 200 and not failures, failures
