"""The layer has no import cycles (a lazy import inside a function counts too), and the check finds one."""

from __future__ import annotations

from pathlib import Path

from tools import check_imports


def test_the_layer_has_no_import_cycles() -> None:
    assert check_imports.cycles(check_imports.graph()) == []


def test_a_cycle_through_a_lazy_import_is_found(tmp_path: Path) -> None:
    pkg = tmp_path / "account_credit"
    (pkg / "services").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "services" / "__init__.py").write_text("")
    (pkg / "money.py").write_text("X = 1\n")
    (pkg / "services" / "a.py").write_text("from ..money import X\nfrom .b import f\n")
    (pkg / "services" / "b.py").write_text("def f():\n    from . import a\n    return a\n")
    found = check_imports.cycles(check_imports.graph(tmp_path))
    assert found == [["account_credit.services.a", "account_credit.services.b"]]
    assert check_imports.main([str(tmp_path)]) == 1
    assert check_imports.main([]) == 0


def test_the_kernel_and_the_platform_import_no_capability() -> None:
    """kernel -> nothing but the kernel; platform -> kernel and platform; capabilities build on both."""
    edges = check_imports.graph()
    allowed = {
        "account_credit.kernel": ("account_credit.kernel",),
        "account_credit.platform": ("account_credit.kernel", "account_credit.platform"),
    }
    wrong = [
        (module, target)
        for module, targets in edges.items()
        for layer, ok in allowed.items()
        if module == layer or module.startswith(layer + ".")
        for target in targets
        if not any(target == p or target.startswith(p + ".") for p in ok)
    ]
    assert wrong == []
