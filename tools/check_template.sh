#!/usr/bin/env bash
# Static checks and an offline build of the SAM template.
#
#   bash tools/check_template.sh
#
#   1. cfn-lint + serverless rules (cfn-lint-serverless): no errors, no warnings
#   2. IAM guard: no function policy statement may use Resource "*"
#   3. sam validate --lint (offline; dummy region/credentials, no AWS calls)
#   4. sam build (no Docker) into .aws-sam/check/, then assert each layer holds
#      what it is for (tools/layer.py RULES: SharedLayer the account_credit
#      package and its dependencies, DocumentsLayer the rendering ones), no AWS
#      SDK, hash-based bytecode everywhere, that every native extension is arm64
#      and built for the template's Python version, every function's handler is
#      in its build, and every function with its layers fits Lambda's unpacked
#      size limit.
#
# Tools: CFN_LINT (default .venv/bin/cfn-lint), SAM (default .tools-sam/bin/sam),
# PYTHON (default .venv/bin/python, runs the checks), BUILD_PYTHON (the Python
# of the template's runtime that sam build runs pip with; default: the one
# tools/find_python.sh finds, as the Makefile does).
# No rules are ignored at the moment; if one ever has to be, ignore it on the
# resource (Metadata: cfn-lint: config: ignore_checks) with a comment saying why.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

CFN_LINT="${CFN_LINT:-.venv/bin/cfn-lint}"
SAM="${SAM:-.tools-sam/bin/sam}"
PYTHON="${PYTHON:-.venv/bin/python}"
TEMPLATE="template.yaml"
BUILD_ROOT=".aws-sam/check"

# One Python version throughout the template (Runtime, CompatibleRuntimes, BuildMethod).
mapfile -t runtimes < <(grep -oE '\bpython3\.[0-9]+\b' "$TEMPLATE" | sort -u)
if [[ ${#runtimes[@]} -ne 1 ]]; then
  echo "$TEMPLATE should name one Python runtime, it names: ${runtimes[*]:-none}" >&2
  exit 1
fi
RUNTIME="${runtimes[0]}"            # python3.13
PY_VERSION="${RUNTIME#python}"      # 3.13

export SAM_CLI_TELEMETRY=0
# sam validate needs a region to run the SAM transform; it needs no
# credentials (the template uses no managed-policy names) and nothing here
# talks to AWS.
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}"

step() { printf '==> %s\n' "$*"; }

# 1. cfn-lint exits non-zero on errors (2), warnings (4) and informational (8).
step "cfn-lint (+ cfn_lint_serverless.rules)"
"$CFN_LINT" --append-rules cfn_lint_serverless.rules -- "$TEMPLATE"

# 2. Least privilege: explicit resources only in inline function policies.
step "IAM guard (no Resource \"*\" in function policies)"
"$PYTHON" - "$TEMPLATE" <<'PY'
import sys
from cfnlint.decode import decode

template, errors = decode(sys.argv[1])
if errors:
    sys.exit(f"cannot parse {sys.argv[1]}: {errors}")
bad = []
for name, res in (template.get("Resources") or {}).items():
    if res.get("Type") != "AWS::Serverless::Function":
        continue
    for policy in res.get("Properties", {}).get("Policies") or []:
        if not isinstance(policy, dict):
            continue
        for st in policy.get("Statement") or []:
            resources = st.get("Resource", [])
            resources = resources if isinstance(resources, list) else [resources]
            if any(r == "*" or (isinstance(r, str) and r.endswith(":*")) for r in resources):
                bad.append(f"{name}: statement {st.get('Sid', '?')} has a wildcard Resource")
if bad:
    sys.exit("\n".join(bad))
PY

# 3. SAM's own validation (transform) plus its bundled linter.
step "sam validate --lint"
"$SAM" validate --lint --template-file "$TEMPLATE"

# 4. Build without containers. The functions use SAM's Python builder, the layers
#    their Makefiles (shared/Makefile, documents/Makefile: arm64 wheels from PyPI
#    + hash-based bytecode); all run
#    pip with the first working `python3.13` (etc.) on PATH; a pyenv shim for a
#    version that is not selected does not run, so the folder of BUILD_PYTHON
#    goes first on PATH for this step. That Python needs pip.
BUILD_PYTHON=$(bash tools/find_python.sh "$PY_VERSION" "${BUILD_PYTHON:-}") || exit 1
build_bin=$(dirname "$BUILD_PYTHON")
if ! "$build_bin/python$PY_VERSION" -m pip --version >/dev/null 2>&1; then
  echo "sam build runs pip with $build_bin/python$PY_VERSION, which is missing or has no pip" >&2
  echo "(a venv's python has none): set BUILD_PYTHON to a Python $PY_VERSION install with pip, e.g. pyenv's." >&2
  exit 1
fi
step "sam build (no container, $build_bin/python$PY_VERSION) -> ${BUILD_ROOT}/build"
start=$(date +%s)
PATH="$build_bin:$PATH" "$SAM" build \
  --template-file "$TEMPLATE" \
  --build-dir "${BUILD_ROOT}/build" \
  --cache-dir "${BUILD_ROOT}/cache" \
  --cached --parallel
echo "sam build took $(( $(date +%s) - start ))s"

step "build artefacts (layer contents, arm64 binaries, handlers, sizes)"
"$PYTHON" - "${BUILD_ROOT}/build" "$PY_VERSION" <<'PY'
import pathlib, re, struct, sys

build = pathlib.Path(sys.argv[1])
cpython_tag = "cpython-" + sys.argv[2].replace(".", "")  # cpython-313
sys.path.insert(0, ".")
from tools import layer as layers, template
from tools.layer import FORBIDDEN, FUNCTION_UNPACKED_LIMIT, RULES, without_bytecode

EM_AARCH64 = 183
problems, notes = [], []


def size(folder: pathlib.Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


built_layers = {}
for name in layers.layer_names():
    if name not in RULES:
        problems.append(f"{name}: no rules in tools/layer.py RULES (what it must hold, its budget)")
        continue
    found = [p for p in build.iterdir() if p.is_dir() and p.name == name]
    if len(found) != 1:
        problems.append(f"expected one {name} build dir in {build}, found {found}")
        continue
    built_layers[name] = found[0]
    site = found[0] / "python"
    for pkg in RULES[name].packages:
        if not (site / pkg).is_dir():
            problems.append(f"{name} is missing python/{pkg}")
    for pkg in FORBIDDEN:
        if (site / pkg).is_dir():
            problems.append(f"{name} holds python/{pkg} (the runtime provides the AWS SDK; the X-Ray SDK is off)")
    native = 0
    for so in site.rglob("*.so*"):
        if not so.is_file():
            continue
        head = so.read_bytes()[:20]
        if head[:4] != b"\x7fELF":
            continue
        native += 1
        endian = "<" if head[5] == 1 else ">"
        machine = struct.unpack(endian + "H", head[18:20])[0]
        if machine != EM_AARCH64:
            problems.append(f"{so.relative_to(build)} is not aarch64 (e_machine={machine})")
        tag = re.search(r"\.(cpython-\d+)-", so.name)
        if tag and tag.group(1) != cpython_tag:
            problems.append(f"{so.relative_to(build)} is built for {tag.group(1)}, not {cpython_tag}")
    if name == "SharedLayer" and native == 0:
        problems.append("no native extensions found in SharedLayer (pydantic_core expected)")
    # Hash-based bytecode for every module (the Makefiles): SAM's zip keeps no file times, so without it
    # every cold start would compile the layer from source.
    uncompiled = without_bytecode(found[0])
    if uncompiled:
        problems.append(f"{len(uncompiled)} modules of {name} have no hash-based bytecode, e.g. {uncompiled[:3]}")
    notes.append(f"{name}: {native} native extensions, all aarch64 ({cpython_tag} or abi3); {size(found[0]) / 1e6:.1f} MB")

# Every function's handler module must be in its build dir, and the function with all its layers must fit
# Lambda's unpacked limit.
from cfnlint.decode import decode
built, errors = decode(str(build / "template.yaml"))
if errors:
    sys.exit(f"cannot parse built template: {errors}")
sources = template.functions()
for name, res in built["Resources"].items():
    if res.get("Type") != "AWS::Serverless::Function":
        continue
    handler = res["Properties"].get("Handler") or built.get("Globals", {}).get("Function", {}).get("Handler")
    module = handler.rsplit(".", 1)[0].replace(".", "/") + ".py"
    if not (build / name / module).is_file():
        source = pathlib.Path(sources[name]["CodeUri"]) / module
        if source.is_file():
            problems.append(f"{name}: handler module {module} missing from the build")
        else:  # a function whose code is being written: it builds, but cannot run yet
            notes.append(f"WARNING {name}: {source} does not exist yet; the function cannot be invoked without it")
    total = size(build / name) + sum(size(built_layers[n]) for n in template.function_layers(name) if n in built_layers)
    if total > FUNCTION_UNPACKED_LIMIT:
        problems.append(f"{name}: code and layers are {total / 1e6:.0f} MB unpacked, over Lambda's 262 MB")

print("\n".join(notes))
if problems:
    sys.exit("\n".join(problems))
PY

echo "OK: template.yaml lints clean, validates, and builds (layers arm64, $RUNTIME) in ${BUILD_ROOT}/build"
