"""Build a layer of template.yaml as SAM does and measure it: ``python -m tools.layer [--layer NAME] [--keep DIR]``.

Runs the same build as ``sam build`` (the layer's ``<ContentUri>/Makefile`` target ``build-<LogicalId>``; for the
default SharedLayer ``shared/Makefile``: ``shared/requirements.txt`` for the layer's platform — template.yaml's
SharedLayer: python3.13, arm64 -> manylinux2014 aarch64 wheels only — plus the ``account_credit`` package, with
hash-based bytecode; DocumentsLayer: ``documents/Makefile``, the rendering dependencies and fonts) into a temporary
folder, zips it like a layer archive and prints its zipped and unpacked sizes, the largest packages, and fails
(exit 1) if the runtime's own SDK (boto3, botocore, s3transfer) or the X-Ray SDK got in, if a module has no
bytecode, if a package the layer exists for is missing, or if the archive is over its size budget. Needs the
package index (PyPI) for the platform's wheels and a Python 3.13 with pip (``tools/find_python.sh``;
``BUILD_PYTHON`` to choose one).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from tools import template
from tools.template import ROOT

# The python3.13 runtime provides boto3/botocore/s3transfer; the X-Ray SDK would bring botocore back.
FORBIDDEN = ("boto3", "botocore", "s3transfer", "aws_xray_sdk")
BUDGET_BYTES = 8 * 1000 * 1000  # SharedLayer: 8 MB zipped, besides the dependencies justified by name below
# Dependencies outside the budget, each justified (docs/PERFORMANCE.md, "Cold start and layer").
JUSTIFIED = {
    "stdnum": "python-stdnum: every EU member state's VAT number check digits (accounts and the seller's "
    "configuration check VAT ids with it rather than by hand); about 1.5 MB zipped, most of it data files of other "
    "identifiers it also knows (MAC prefixes, IMSI ranges); imported only where a VAT id is checked",
    **dict.fromkeys(
        ("requests", "urllib3", "charset_normalizer", "idna", "certifi"),
        "stripe's HTTP client (requests and what requests needs): nothing else in the layer imports it, and boto3 "
        "in the runtime brings its own urllib3",
    ),
    "stripe": "the payment provider's official SDK the project uses instead of hand-written API calls; 22 MB "
    "unpacked with its bytecode, imported only on the Stripe paths (card webhooks, card charges and refunds)",
}
PIP_PLATFORMS = {"arm64": "manylinux2014_aarch64", "x86_64": "manylinux2014_x86_64"}
PYTHON_TAG = "313"  # cpython-313: the runtime's bytecode tag
# Lambda's limit for a function's code and all its layers, unpacked.
FUNCTION_UNPACKED_LIMIT = 262_144_000


@dataclass(frozen=True)
class Rules:
    """What a layer of template.yaml must hold (top-level names in python/) and its zipped budget."""

    packages: tuple[str, ...]
    budget: int
    justified: dict[str, str] = field(default_factory=dict)


RULES = {
    "SharedLayer": Rules(
        ("account_credit", "aws_lambda_powertools", "pydantic", "pydantic_core"), BUDGET_BYTES, JUSTIFIED
    ),
    # fpdf2 (with fonttools and pillow, which it needs for fonts and images), Babel, defusedxml and the fonts; only
    # the functions that render or format documents carry it. 12 MB zipped besides the two justified below.
    "DocumentsLayer": Rules(
        ("fpdf", "babel", "defusedxml", "fontTools", "PIL"),
        12 * 1000 * 1000,
        {
            "babel": "CLDR data of every locale (about 11 MB zipped, 34 MB unpacked): documents and emails format "
            "money, numbers and dates per DOCUMENT_LANGUAGES with it; keeping only those languages' locale-data "
            "files would save most of it",
            "fontTools": "fpdf2's own dependency for embedding TrueType fonts (it subsets them, so a PDF carries only "
            "the glyphs it uses); about 8 MB zipped",
        },
    ),
}


@dataclass
class Layer:
    root: Path  # the folder that is zipped (holds python/)
    zipped: int
    unpacked: int
    packages: dict[str, tuple[int, int]]  # top-level name in python/ -> (zipped, unpacked) bytes
    forbidden: list[str]
    uncompiled: list[str] = field(default_factory=list)
    name: str = "SharedLayer"  # its logical id in template.yaml

    @property
    def rules(self) -> Rules:
        return RULES[self.name]

    @property
    def budgeted_bytes(self) -> int:
        """Zipped bytes that count against the budget: all but the justified dependencies."""
        return self.zipped - sum(z for name, (z, _u) in self.packages.items() if name in self.rules.justified)

    @property
    def missing(self) -> list[str]:
        """Packages the layer exists for that are not in it."""
        return [p for p in self.rules.packages if p not in self.packages]

    @property
    def ok(self) -> bool:
        return not (self.forbidden or self.uncompiled or self.missing) and self.budgeted_bytes <= self.rules.budget


def layer_names() -> list[str]:
    """Logical ids of template.yaml's layers (AWS::Serverless::LayerVersion), in template order."""
    resources = template.load()["Resources"]
    return [name for name, res in resources.items() if res.get("Type") == "AWS::Serverless::LayerVersion"]


def layer_spec(name: str = "SharedLayer") -> tuple[str, str]:
    """(python version, architecture) of a layer of template.yaml."""
    layer = template.load()["Resources"][name]
    runtime = layer["Properties"]["CompatibleRuntimes"][0]  # python3.13
    arch = layer["Metadata"].get("BuildArchitecture", "x86_64")
    return runtime.removeprefix("python"), arch


def content_dir(name: str = "SharedLayer") -> Path:
    """The layer's ContentUri: its Makefile and requirements.txt are there."""
    return ROOT / template.load()["Resources"][name]["Properties"]["ContentUri"]


def build_python(python_version: str) -> str:
    """A Python of the runtime's version with pip (bytecode is per minor version), as the Makefile finds one."""
    found = subprocess.run(
        ["bash", str(ROOT / "tools" / "find_python.sh"), python_version, os.environ.get("BUILD_PYTHON", "")],
        check=True,
        capture_output=True,
        text=True,
    )
    return found.stdout.strip()


def build(root: Path, python_version: str, arch: str, name: str = "SharedLayer") -> Layer:
    """The layer's ``<ContentUri>/Makefile`` target build-<name> into ``root``, exactly what ``sam build`` runs."""
    python = build_python(python_version)
    done = subprocess.run(
        [
            "make",
            "--silent",
            "-f",
            str(content_dir(name) / "Makefile"),
            f"build-{name}",
            f"ARTIFACTS_DIR={root}",
            f"LAYER_PYTHON={python}",
            f"LAYER_PLATFORM={PIP_PLATFORMS[arch]}",
        ],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        print(done.stdout + done.stderr, file=sys.stderr)
        done.check_returncode()
    return measure(root, name)


def without_bytecode(root: Path) -> list[str]:
    """Modules of the layer that would be compiled at a cold start: no hash-based .pyc for the runtime next to
    them (PEP 552 flags: bit 0 set = hash-based; a timestamp .pyc never validates after SAM's zip)."""
    missing = []
    for source in (root / "python").rglob("*.py"):
        pyc = source.parent / "__pycache__" / f"{source.stem}.cpython-{PYTHON_TAG}.pyc"
        if not pyc.is_file() or not int.from_bytes(pyc.read_bytes()[4:8], "little") & 0b01:
            missing.append(str(source.relative_to(root)))
    return missing


def measure(root: Path, name: str = "SharedLayer") -> Layer:
    """Zip ``root`` (deflate, like SAM's upload) and size it per top-level package of python/ (other top-level
    folders of the layer, such as fonts/, count as one package each)."""
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
    return Layer(
        root, zipped, unpacked, {k: (v[0], v[1]) for k, v in packages.items()}, forbidden, without_bytecode(root), name
    )


def mb(n: int) -> str:
    return f"{n / 1_000_000:.1f} MB"


def report(layer: Layer, top: int = 12) -> str:
    justified = sorted(layer.rules.justified)
    without = f" without {', '.join(justified)}" if justified else ""
    lines = [
        f"layer {layer.name}: {mb(layer.zipped)} zipped, {mb(layer.unpacked)} unpacked; "
        f"{mb(layer.budgeted_bytes)} zipped{without} (budget {mb(layer.rules.budget)})"
    ]
    for name, (z, u) in sorted(layer.packages.items(), key=lambda kv: -kv[1][0])[:top]:
        lines.append(f"  {mb(z):>9} zipped {mb(u):>9} unpacked  {name}")
    if layer.forbidden:
        lines.append(f"FORBIDDEN in the layer (the runtime provides them): {', '.join(layer.forbidden)}")
    if layer.uncompiled:
        lines.append(
            f"NO BYTECODE (compiled at every cold start): {len(layer.uncompiled)} modules, e.g. "
            + ", ".join(layer.uncompiled[:3])
        )
    if layer.missing:
        lines.append(f"MISSING from the layer: {', '.join(layer.missing)}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--layer", default="SharedLayer", choices=layer_names(), help="logical id (SharedLayer)")
    parser.add_argument("--keep", type=Path, help="build into this folder (kept) instead of a temporary one")
    parser.add_argument("--arch", choices=sorted(PIP_PLATFORMS), help="default: the layer's BuildArchitecture")
    args = parser.parse_args(argv)
    python_version, arch = layer_spec(args.layer)
    arch = args.arch or arch
    with tempfile.TemporaryDirectory(prefix="layer-") as tmp:
        root = args.keep or Path(tmp) / "layer"
        if root.exists():
            shutil.rmtree(root)
        root.mkdir(parents=True)
        layer = build(root, python_version, arch, args.layer)
    print(f"python{python_version} {arch}, {content_dir(args.layer).relative_to(ROOT)}/Makefile build-{args.layer}")
    print(report(layer))
    for name, why in layer.rules.justified.items():
        print(f"outside the budget: {name} ({mb(layer.packages.get(name, (0, 0))[0])} zipped): {why}")
    return 0 if layer.ok else 1


if __name__ == "__main__":
    sys.exit(main())
