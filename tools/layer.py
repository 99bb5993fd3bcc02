"""Build the shared Lambda layer as SAM does and measure it: ``python -m tools.layer [--keep DIR]``.

Installs ``shared/requirements.txt`` for the layer's platform (template.yaml's SharedLayer: python3.13,
arm64 -> manylinux2014 aarch64 wheels only) into a temporary ``python/`` folder with the project's
installer (uv, which ``make`` puts in .tools-uv/; pip if there is no uv), adds the ``account_credit``
package, zips it like a layer archive and prints its zipped and unpacked sizes, the largest packages, and
fails (exit 1) if the runtime's own SDK (boto3, botocore, s3transfer) or the X-Ray SDK got in, or if the
archive is over the size budget. Needs the package index (PyPI) for the platform's wheels.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from tools import template
from tools.template import ROOT

# The python3.13 runtime provides boto3/botocore/s3transfer; the X-Ray SDK would bring botocore back.
FORBIDDEN = ("boto3", "botocore", "s3transfer", "aws_xray_sdk")
BUDGET_BYTES = 8 * 1000 * 1000  # 8 MB zipped (docs/PERFORMANCE.md justifies anything over it by name)
PLATFORMS = {"arm64": "aarch64-manylinux2014", "x86_64": "x86_64-manylinux2014"}
PIP_PLATFORMS = {"arm64": "manylinux2014_aarch64", "x86_64": "manylinux2014_x86_64"}


@dataclass
class Layer:
    root: Path  # the folder that is zipped (holds python/)
    zipped: int
    unpacked: int
    packages: dict[str, tuple[int, int]]  # top-level name in python/ -> (zipped, unpacked) bytes
    forbidden: list[str]


def layer_spec() -> tuple[str, str]:
    """(python version, architecture) of template.yaml's SharedLayer."""
    layer = template.load()["Resources"]["SharedLayer"]
    runtime = layer["Metadata"]["BuildMethod"]  # python3.13
    arch = layer["Metadata"].get("BuildArchitecture", "x86_64")
    return runtime.removeprefix("python"), arch


def _uv() -> str | None:
    local = ROOT / ".tools-uv" / "bin" / "uv"
    return str(local) if local.exists() else shutil.which("uv")


def install(target: Path, python_version: str, arch: str) -> None:
    """The layer's third-party packages, as ``sam build`` installs them: wheels for the Lambda platform only,
    unpacked, no bytecode compiled (SAM's Python builder extracts the wheels)."""
    requirements = str(ROOT / "shared" / "requirements.txt")
    uv = _uv()
    if uv:
        cmd = [uv, "pip", "install", "--quiet", "--target", str(target), "--python-version", python_version]
        cmd += ["--python-platform", PLATFORMS[arch], "--only-binary", ":all:", "-r", requirements]
    else:
        cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile"]
        cmd += ["--target", str(target), "--platform", PIP_PLATFORMS[arch], "--implementation", "cp"]
        cmd += ["--python-version", python_version, "--only-binary=:all:", "-r", requirements]
    subprocess.run(cmd, check=True)


def build(root: Path, python_version: str, arch: str) -> Layer:
    site = root / "python"
    install(site, python_version, arch)
    shutil.copytree(
        ROOT / "shared" / "account_credit", site / "account_credit", ignore=shutil.ignore_patterns("__pycache__")
    )
    return measure(root)


def measure(root: Path) -> Layer:
    """Zip ``root`` (deflate, like SAM's upload) and size it per top-level package of python/."""
    archive = root.parent / f"{root.name}.zip"
    packages: dict[str, list[int]] = {}
    unpacked = 0
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        for path in sorted(root.rglob("*")):
            if not path.is_file():
                continue
            rel = path.relative_to(root)
            z.write(path, rel.as_posix())
            info = z.getinfo(rel.as_posix())
            size = path.stat().st_size
            unpacked += size
            inside = rel.parts[1:] if rel.parts[0] == "python" and len(rel.parts) > 1 else rel.parts
            top = inside[0] if len(inside) > 1 else Path(inside[0]).stem  # a package, or a module file
            top = top.split("-")[0] if top.endswith(".dist-info") else top
            entry = packages.setdefault(top, [0, 0])
            entry[0] += info.compress_size
            entry[1] += size
    zipped = archive.stat().st_size
    present = {p.lower().replace("-", "_") for p in packages}
    forbidden = [name for name in FORBIDDEN if name in present]
    return Layer(root, zipped, unpacked, {k: (v[0], v[1]) for k, v in packages.items()}, forbidden)


def mb(n: int) -> str:
    return f"{n / 1_000_000:.1f} MB"


def report(layer: Layer, top: int = 12) -> str:
    lines = [f"layer: {mb(layer.zipped)} zipped, {mb(layer.unpacked)} unpacked (budget {mb(BUDGET_BYTES)} zipped)"]
    for name, (z, u) in sorted(layer.packages.items(), key=lambda kv: -kv[1][0])[:top]:
        lines.append(f"  {mb(z):>9} zipped {mb(u):>9} unpacked  {name}")
    if layer.forbidden:
        lines.append(f"FORBIDDEN in the layer (the runtime provides them): {', '.join(layer.forbidden)}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keep", type=Path, help="build into this folder (kept) instead of a temporary one")
    parser.add_argument("--arch", choices=sorted(PLATFORMS), help="default: the SharedLayer's BuildArchitecture")
    args = parser.parse_args(argv)
    python_version, arch = layer_spec()
    arch = args.arch or arch
    with tempfile.TemporaryDirectory(prefix="layer-") as tmp:
        root = args.keep or Path(tmp) / "layer"
        if root.exists():
            shutil.rmtree(root)
        root.mkdir(parents=True)
        layer = build(root, python_version, arch)
    print(f"python{python_version} {arch}, shared/requirements.txt + account_credit")
    print(report(layer))
    return 1 if layer.forbidden or layer.zipped > BUDGET_BYTES else 0


if __name__ == "__main__":
    sys.exit(main())
