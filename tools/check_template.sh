#!/usr/bin/env bash
# Static checks and an offline build of the SAM template.
#
#   bash tools/check_template.sh
#
#   1. cfn-lint + serverless rules (cfn-lint-serverless): no errors, no warnings
#   2. IAM guard: no function policy statement may use Resource "*"
#   3. sam validate --lint (offline; dummy region/credentials, no AWS calls)
#   4. sam build (no Docker) into .aws-sam/check/, then assert the layer holds
#      the account_credit package and that every native extension is arm64.
#
# Tools: CFN_LINT (default .venv/bin/cfn-lint), SAM (default .tools-sam/bin/sam).
# No rules are ignored at the moment; if one ever has to be, ignore it on the
# resource (Metadata: cfn-lint: config: ignore_checks) with a comment saying why.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

CFN_LINT="${CFN_LINT:-.venv/bin/cfn-lint}"
SAM="${SAM:-.tools-sam/bin/sam}"
PYTHON="${PYTHON:-.venv/bin/python}"
TEMPLATE="template.yaml"
BUILD_ROOT=".aws-sam/check"

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

# 4. Build without containers; the layer's Metadata pins python3.11/arm64, so
#    pip fetches manylinux aarch64 wheels from PyPI.
step "sam build (no container) -> ${BUILD_ROOT}/build"
start=$(date +%s)
"$SAM" build \
  --template-file "$TEMPLATE" \
  --build-dir "${BUILD_ROOT}/build" \
  --cache-dir "${BUILD_ROOT}/cache" \
  --cached --parallel
echo "sam build took $(( $(date +%s) - start ))s"

step "build artefacts (layer contents, arm64 binaries)"
"$PYTHON" - "${BUILD_ROOT}/build" <<'PY'
import pathlib, struct, sys

build = pathlib.Path(sys.argv[1])
layers = [p for p in build.iterdir() if p.is_dir() and p.name.startswith("SharedLayer")]
if len(layers) != 1:
    sys.exit(f"expected one SharedLayer build dir in {build}, found {layers}")
site = layers[0] / "python"
problems = []
for pkg in ("account_credit", "aws_lambda_powertools", "pydantic", "pydantic_core"):
    if not (site / pkg).is_dir():
        problems.append(f"layer is missing python/{pkg}")

EM_AARCH64 = 183
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
if native == 0:
    problems.append("no native extensions found in the layer (pydantic_core expected)")

# Every function's handler module must be in its build dir.
from cfnlint.decode import decode
built, errors = decode(str(build / "template.yaml"))
if errors:
    sys.exit(f"cannot parse built template: {errors}")
for name, res in built["Resources"].items():
    if res.get("Type") != "AWS::Serverless::Function":
        continue
    handler = res["Properties"].get("Handler") or built.get("Globals", {}).get("Function", {}).get("Handler")
    module = handler.rsplit(".", 1)[0].replace(".", "/") + ".py"
    if not (build / name / module).is_file():
        problems.append(f"{name}: handler module {module} missing from the build")

if problems:
    sys.exit("\n".join(problems))
print(f"layer {layers[0].name}: {native} native extensions, all aarch64")
PY

echo "OK: template.yaml lints clean, validates, and builds (layer arm64) in ${BUILD_ROOT}/build"
