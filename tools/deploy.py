"""samconfig.toml's environments, read the way ``sam deploy --config-env ENV`` reads them.

    .venv/bin/python -m tools.deploy check dev     # exit 1 listing every value still written REPLACE-ME
    .venv/bin/python -m tools.deploy stack dev     # the stack name and region of the environment

``make deploy ENV=...`` runs the check first, so a stack is never deployed with a placeholder seller, sender or
alarm address; tools/users.py finds the stack (and its user pool) of an environment here.
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.template import ROOT

SAMCONFIG = ROOT / "samconfig.toml"
PLACEHOLDER = "REPLACE-ME"


@dataclass(frozen=True)
class Environment:
    name: str
    stack_name: str
    region: str | None
    parameters: dict[str, str]  # parameter_overrides

    def placeholders(self) -> list[str]:
        """The parameters (and settings) the user still has to fill in."""
        found = [key for key, value in self.parameters.items() if PLACEHOLDER in value]
        if PLACEHOLDER in self.stack_name or PLACEHOLDER in (self.region or ""):
            found.insert(0, "stack_name/region")
        return found

    def reminders(self) -> list[str]:
        """What a first deploy may leave empty but a working stack needs next (README "Deploy", step 9)."""
        if self.parameters.get("PortalOrigin", "").strip():
            return []
        return [
            "PortalOrigin is empty: the portal cannot sign in and Stripe card top-ups are refused until it is set to "
            "the ApiUrl output (or your domain) and the stack is deployed again"
        ]


def _overrides(value: Any) -> dict[str, str]:
    """parameter_overrides as a table (Key = "value") or as sam's "Key=value Key2=value2" string."""
    if value is None:
        return {}
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items()}
    if isinstance(value, str):
        pairs = [item.split("=", 1) for item in value.split()]
        return {k: v.strip('"') for k, v in pairs}
    raise SystemExit(f"samconfig.toml: parameter_overrides must be a table or a string, not {value!r}")


def environment(name: str, path: Path = SAMCONFIG) -> Environment:
    config = tomllib.loads(path.read_text())
    if name not in config:
        known = ", ".join(sorted(k for k in config if isinstance(config[k], dict)))
        raise SystemExit(f"{path.name} has no environment {name!r} (it has: {known})")
    env = config[name]
    merged: dict[str, Any] = {
        **env.get("global", {}).get("parameters", {}),
        **env.get("deploy", {}).get("parameters", {}),
    }
    if "stack_name" not in merged:
        raise SystemExit(f"{path.name}: environment {name!r} names no stack_name")
    return Environment(
        name=name,
        stack_name=str(merged["stack_name"]),
        region=merged.get("region"),
        parameters=_overrides(merged.get("parameter_overrides")),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["check", "stack"])
    parser.add_argument("env", help="a samconfig.toml environment: dev, prod")
    args = parser.parse_args(argv)
    env = environment(args.env)
    if args.command == "stack":
        print(env.stack_name, env.region or "")
        return 0
    missing = env.placeholders()
    if missing:
        print(
            f"samconfig.toml [{env.name}] still has {PLACEHOLDER} values; fill them in first:\n  "
            + "\n  ".join(f"{key} = {env.parameters.get(key, '')!r}" for key in missing),
            file=sys.stderr,
        )
        return 1
    print(
        f"samconfig.toml [{env.name}]: stack {env.stack_name} in {env.region or 'the default region'}, no placeholders"
    )
    for reminder in env.reminders():
        print(f"note: {reminder}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
