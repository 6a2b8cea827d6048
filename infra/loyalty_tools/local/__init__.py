"""The embedded local stack: the template's functions in this process, on moto server and the emulators.

Every function of the template runs in this one process, so what the loyalty package builds once per container from
the environment when it is imported (the Powertools logger and metrics of loyalty.observability) is built
once for all of them, in whatever environment imports it first. This process is given the template's global function
environment before anything imports the package, as Lambda gives each container (metrics stay off here: there is no
CloudWatch agent to take them).
"""

import os
from pathlib import Path


def _function_globals() -> dict[str, str]:
    from loyalty_tools.local.template import read_template

    template = read_template(Path(__file__).resolve().parents[3] / "template.yaml")
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    return {name: value for name, value in variables.items()
            if isinstance(value, str) and name.startswith("POWERTOOLS")}


for _name, _value in {**_function_globals(), "POWERTOOLS_METRICS_DISABLED": "true"}.items():
    os.environ.setdefault(_name, _value)
