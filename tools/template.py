"""Read template.yaml: the table definition and the HTTP routes. The one source of both.

Tests and the local server build the table and the routes from here, never from a
second copy of the schema.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"


class _CfnLoader(yaml.SafeLoader):
    """YAML loader that keeps CloudFormation short-form intrinsics (!Ref, !Sub...) as plain values."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    return {name: value}


_CfnLoader.add_multi_constructor("!", _intrinsic)


@lru_cache(maxsize=1)
def load() -> dict[str, Any]:
    return yaml.load(TEMPLATE.read_text(), Loader=_CfnLoader)


def resolve_if(value: Any, conditions: dict[str, bool]) -> Any:
    """Resolve Fn::If with the given condition values (local = dev, no external issuer)."""
    if isinstance(value, dict) and "Fn::If" in value:
        cond, yes, no = value["Fn::If"]
        return resolve_if(yes if conditions.get(cond, False) else no, conditions)
    return value


def table_definition(table_name: str) -> dict[str, Any]:
    """``create_table`` arguments from the Table resource (what DynamoDB Local supports)."""
    props = load()["Resources"]["Table"]["Properties"]
    args: dict[str, Any] = {
        "TableName": table_name,
        "AttributeDefinitions": props["AttributeDefinitions"],
        "KeySchema": props["KeySchema"],
        "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
    }
    if props.get("GlobalSecondaryIndexes"):
        args["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
    if props.get("StreamSpecification"):
        args["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
    return args


def ttl_attribute() -> str | None:
    spec = load()["Resources"]["Table"]["Properties"].get("TimeToLiveSpecification")
    return spec["AttributeName"] if spec and spec.get("Enabled") else None


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # API Gateway form: /accounts/{account_id}
    function: str  # logical id
    code_uri: str
    handler: str
    public: bool

    @property
    def regex(self) -> re.Pattern[str]:
        pattern = re.escape(self.path)
        # {name+} (a greedy path variable, the rest of the path) matches across slashes, like API Gateway's.
        pattern = re.sub(r"\\\{([A-Za-z_][A-Za-z0-9_]*)\\\+\\\}", r"(?P<\1>.+)", pattern)
        pattern = re.sub(r"\\\{([A-Za-z_][A-Za-z0-9_]*)\\\}", r"(?P<\1>[^/]+)", pattern)
        return re.compile(f"^{pattern}$")


def functions() -> dict[str, dict[str, Any]]:
    """Every function's properties with Globals applied as SAM applies them: a function's own value wins, its
    environment variables are merged into the global ones (``EnvironmentVariables``), and its Layers list is
    added after the global one (SAM appends Globals lists, it does not replace them)."""
    tpl = load()
    globals_fn = tpl.get("Globals", {}).get("Function", {})
    out = {}
    for name, res in tpl["Resources"].items():
        if res.get("Type") == "AWS::Serverless::Function":
            own = res.get("Properties", {})
            props = {**globals_fn, **own}
            env = {
                **globals_fn.get("Environment", {}).get("Variables", {}),
                **own.get("Environment", {}).get("Variables", {}),
            }
            props["EnvironmentVariables"] = env
            props["Layers"] = [*globals_fn.get("Layers", []), *own.get("Layers", [])]
            out[name] = props
    return out


def function_layers(function: str) -> list[str]:
    """Logical ids of the layers of a function (``!Ref SomeLayer``), the global ones first."""
    return [layer["Ref"] for layer in functions()[function]["Layers"] if isinstance(layer, dict) and "Ref" in layer]


def layer_dirs(function: str) -> list[Path]:
    """The ContentUri folders of a function's layers (the local stand-in for /opt)."""
    resources = load()["Resources"]
    return [ROOT / resources[name]["Properties"]["ContentUri"] for name in function_layers(function)]


def routes() -> list[Route]:
    found = []
    for name, props in functions().items():
        for event in (props.get("Events") or {}).values():
            if event.get("Type") != "HttpApi":
                continue
            ep = event["Properties"]
            auth = (ep.get("Auth") or {}).get("Authorizer")
            found.append(
                Route(
                    method=ep["Method"].upper(),
                    path=ep["Path"],
                    function=name,
                    code_uri=props["CodeUri"],
                    handler=props["Handler"],
                    public=auth == "NONE",
                )
            )
    # Literal segments win over parameters, like API Gateway's most-specific match.
    return sorted(found, key=lambda r: (r.path.count("{"), -len(r.path)))


def schedules() -> list[dict[str, Any]]:
    """Every ScheduleV2/Schedule event: function, expression, input (the JSON text the target receives, or None)."""
    out = []
    for name, props in functions().items():
        for ev_name, event in (props.get("Events") or {}).items():
            if event.get("Type") in {"Schedule", "ScheduleV2"}:
                ep = event.get("Properties", {})
                out.append(
                    {
                        "function": name,
                        "event": ev_name,
                        "expression": ep.get("Schedule") or ep.get("ScheduleExpression"),
                        "input": ep.get("Input"),
                        "code_uri": props["CodeUri"],
                        "handler": props["Handler"],
                    }
                )
    return out
