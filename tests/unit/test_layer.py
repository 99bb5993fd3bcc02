"""The layers carry no AWS SDK (the python3.13 runtime provides boto3/botocore; the X-Ray SDK would bring
botocore back), and tracing as deployed never imports the X-Ray SDK.

Offline: each layer's dependency closure is resolved from its requirements.txt (shared/, documents/) with the
metadata of the packages installed here (the same pinned versions, checked), for the layer's platform.
``python -m tools.layer [--layer NAME]`` builds the real archive from the package index and measures it;
tools/check_template.sh checks SAM's build.
"""

from __future__ import annotations

import importlib.metadata as md
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tools import layer, template
from tools.template import ROOT

FORBIDDEN = {canonicalize_name(n) for n in layer.FORBIDDEN} | {"aws-xray-sdk"}


def _requirements(path: Path) -> list[Requirement]:
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [Requirement(line) for line in lines if line and not line.startswith("-")]


def _layer_marker_env(extra: str = "") -> dict[str, str]:
    python_version, arch = layer.layer_spec()
    return {
        "python_version": python_version,
        "python_full_version": f"{python_version}.0",
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
        "sys_platform": "linux",
        "os_name": "posix",
        "platform_system": "Linux",
        "platform_machine": {"arm64": "aarch64"}.get(arch, arch),
        "extra": extra,
    }


def closure(requirements: list[Requirement]) -> dict[str, str]:
    """Every distribution the requirements pull in on the layer's platform: name -> installed version."""
    found: dict[str, str] = {}
    todo = [(r, "") for r in requirements]
    while todo:
        req, extra = todo.pop()
        if req.marker is not None and not req.marker.evaluate(_layer_marker_env(extra)):
            continue
        name = canonicalize_name(req.name)
        dist = md.distribution(name)
        extras = sorted(req.extras)
        key = f"{name}[{','.join(extras)}]"
        if key in found:
            continue
        found[key] = dist.version
        for child in dist.requires or []:
            sub = Requirement(child)
            # a child requirement applies for no extra, or for one of the extras asked for here
            for e in ["", *extras]:
                if sub.marker is None or sub.marker.evaluate(_layer_marker_env(e)):
                    todo.append((Requirement(str(sub).split(";")[0]), ""))
                    break
    return {k.split("[")[0]: v for k, v in found.items()}


def _layer_requirements(name: str) -> list[Requirement]:
    path = layer.content_dir(name) / "requirements.txt"
    if not path.is_file():
        pytest.skip(f"{path.relative_to(ROOT)} is not there yet")
    return _requirements(path)


# What each layer's closure must at least hold (so the check below is not vacuous).
EXPECTED = {
    "SharedLayer": {"aws-lambda-powertools", "pydantic"},
    "DocumentsLayer": {"fpdf2", "babel", "defusedxml", "fonttools", "pillow"},
}


def test_every_layer_is_checked() -> None:
    assert sorted(layer.layer_names()) == sorted(EXPECTED) == sorted(layer.RULES)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_the_layer_requirements_are_pinned_to_what_is_installed_here(name: str) -> None:
    """The closure below reads installed metadata: it is the layer's only if the versions are the pinned ones.
    The local server runs every function on this venv, so it also runs them on the layers' versions."""
    for req in _layer_requirements(name):
        pins = [s.version for s in req.specifier if s.operator == "=="]
        assert pins, f"{req} is not pinned with =="
        assert md.version(req.name) == pins[0], f"installed {req.name} is not the layer's {pins[0]}"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_no_aws_sdk_in_the_layer_closure(name: str) -> None:
    deps = closure(_layer_requirements(name))
    assert EXPECTED[name] <= set(deps)
    assert sorted(FORBIDDEN & set(deps)) == []


def test_the_closure_finds_the_sdk_an_extra_pulls_in() -> None:
    """The check is not vacuous: Powertools' tracer extra is exactly what brought botocore in."""
    deps = closure([Requirement("aws-lambda-powertools[tracer]==3.37.0")])
    assert {"aws-xray-sdk", "botocore"} <= set(deps)


def test_the_marker_environment_is_the_layer_platform() -> None:
    assert Marker('platform_machine == "aarch64" and python_version == "3.13"').evaluate(_layer_marker_env())


def test_tests_run_against_the_runtime_sdk_pins() -> None:
    """requirements-dev.txt pins boto3 and botocore to one release (the runtime ships a matching pair)."""
    pins = {canonicalize_name(r.name): r for r in _requirements(ROOT / "requirements-dev.txt")}
    boto3, botocore = (str(next(iter(pins[n].specifier)).version) for n in ("boto3", "botocore"))
    assert boto3 == botocore
    assert md.version("boto3") == boto3 and md.version("botocore") == botocore


def test_layer_tool_measures_an_archive_and_names_a_forbidden_package(tmp_path: Path) -> None:
    root = tmp_path / "layer"
    (root / "python" / "account_credit").mkdir(parents=True)
    (root / "python" / "account_credit" / "__init__.py").write_text("x = 1\n" * 1000)
    (root / "python" / "botocore").mkdir()
    (root / "python" / "botocore" / "__init__.py").write_text("")
    (root / "python" / "typing_extensions.py").write_text("y = 2\n")
    built = layer.measure(root)
    assert built.forbidden == ["botocore"]
    assert built.unpacked == 6000 + 6
    assert 0 < built.zipped < built.unpacked
    assert set(built.packages) == {"account_credit", "botocore", "typing_extensions"}
    assert "FORBIDDEN" in layer.report(built)


# --------------------------------------------------------------------------- tracing as deployed


def _deployed_trace_setting() -> str:
    """POWERTOOLS_TRACE_DISABLED as the stack sets it with its default parameters."""
    tpl = template.load()
    value = tpl["Globals"]["Function"]["Environment"]["Variables"]["POWERTOOLS_TRACE_DISABLED"]
    cond, on, off = value["Fn::If"]
    param = tpl["Conditions"][cond]["Fn::Equals"]
    assert param[0] == {"Ref": "XRaySdkTracing"}
    default = tpl["Parameters"]["XRaySdkTracing"]["Default"]
    return str(on if default == param[1] else off)


def _fresh(code: str, **env: str) -> dict[str, object]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("POWERTOOLS_")}
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**base, "PYTHONPATH": str(ROOT / "shared"), "LAMBDA_TASK_ROOT": "/var/task", **env},
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


_TRACED = """
import json, sys
from account_credit.platform.observability import capture_lambda_handler

def handler(event, context):
    return {"answer": event["x"] * 2}

wrapped = capture_lambda_handler(handler)
result = wrapped({"x": 21}, None)
print(json.dumps({"same": wrapped is handler, "result": result, "sdk": "aws_xray_sdk" in sys.modules}))
"""


def test_tracing_is_off_by_default_in_the_template() -> None:
    assert _deployed_trace_setting() == "true"
    assert template.load()["Globals"]["Function"]["Tracing"] == "Active"  # Lambda's own segments, no SDK


@pytest.mark.parametrize("setting", ["deployed", "unset"])
def test_deployed_tracing_never_imports_the_xray_sdk(setting: str) -> None:
    env = {"POWERTOOLS_TRACE_DISABLED": _deployed_trace_setting()} if setting == "deployed" else {}
    got = _fresh(_TRACED, **env)
    assert got == {"same": True, "result": {"answer": 42}, "sdk": False}


def test_xray_sdk_tracing_when_the_parameter_turns_it_on() -> None:
    got = _fresh(_TRACED, POWERTOOLS_TRACE_DISABLED="false", AWS_XRAY_CONTEXT_MISSING="IGNORE_ERROR")
    assert got == {"same": False, "result": {"answer": 42}, "sdk": True}


def test_sdk_tracing_without_the_sdk_still_answers() -> None:
    code = "import sys; sys.modules['aws_xray_sdk'] = None  # not installed\n" + _TRACED
    got = _fresh(code, POWERTOOLS_TRACE_DISABLED="false")
    assert got == {"same": False, "result": {"answer": 42}, "sdk": True}  # the None placeholder


@pytest.mark.parametrize("function", sorted(template.functions()))
def test_no_function_imports_the_xray_sdk_as_deployed(function: str) -> None:
    props = template.functions()[function]
    module = props["Handler"].rsplit(".", 1)[0]
    if not (ROOT / props["CodeUri"] / f"{module.replace('.', '/')}.py").is_file():
        pytest.skip(f"{props['CodeUri']}{module}.py is not written yet")
    code = (
        f"import json, sys; sys.path.insert(0, {str(ROOT / props['CodeUri'])!r}); import {module}; "
        "print(json.dumps({'sdk': 'aws_xray_sdk' in sys.modules}))"
    )
    env = {"POWERTOOLS_TRACE_DISABLED": _deployed_trace_setting(), "TABLE_NAME": "t", "AWS_REGION": "us-east-1"}
    assert _fresh(code, **env) == {"sdk": False}
