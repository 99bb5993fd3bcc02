"""The official e-invoice rules beside this file, run on a UBL document given as bytes.

* ``CEN-EN16931-UBL.sch``: the EN 16931 business rules bound to UBL 2.1 (BR-*, BR-CO-*, BR-S/AE/O-*, UBL-CR/SR/DT);
* ``PEPPOL-EN16931-UBL.sch``: the Peppol BIS Billing 3.0 rules (PEPPOL-EN16931-*, PEPPOL-COMMON-*, national rules);
* ``ubl21/``: the OASIS UBL 2.1 XSD (``maindoc/`` and the ``common/`` modules they import), for the structure.

The Schematron files are run by pyschematron (pure Python). Each rule set and each XSD is compiled once per process
(``functools.cache``) and every later document reuses it.

pyschematron decides whether a rule's context matches a node by evaluating the context expression from each of the
node's ancestors, for every node and every rule: on a one-page invoice that is tens of thousands of XPath
evaluations, 10 to 60 s a document. ``_ContextIndex`` gives each rule the same answer from one evaluation per
document: the set of nodes the context selects from any node of the document (an absolute branch, ``/...`` or
``//...``, is evaluated once from the document node; a relative branch ``p`` as ``descendant-or-self::node()/(p)``).
A node is selected from one of its ancestors exactly when it is selected from some node of the document, because
a relative context only steps down (child, descendant, attribute axes; none of the rule contexts here steps up),
so the findings are the engine's own; ``tests/unit/test_ubl.py`` checks that against the unmodified engine.

The Peppol rules define XSLT helper functions (``u:gln``, ``u:slack``, ...) that a pure-XPath engine cannot run;
they are given here in Python, each following the XSLT in ``PEPPOL-EN16931-UBL.sch``. Three Italian helpers
(``u:checkCF``, ``u:checkCF16``, ``u:checkPIVAseIT`` with ``u:checkPIVA``/``u:addPIVA``) are not reimplemented: they
feed warnings only (PEPPOL-COMMON-R045..R047) and only for Italian identifier schemes, so they answer "valid".
"""

from __future__ import annotations

import functools
import sys
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from lxml import etree
from pyschematron.api import SchematronValidator
from pyschematron.direct_mode.api import DirectModeSchematronValidator
from pyschematron.direct_mode.schematron.parsers.xml.parser import ParsingContext, SchemaParser
from pyschematron.direct_mode.xml_validation import validators as _engine
from pyschematron.direct_mode.xml_validation.queries.factories import ExtendableQueryProcessorFactory
from pyschematron.direct_mode.xml_validation.queries.xpath import (
    SimpleCustomXPathFunction,
    XPath2QueryParser,
    XPathQueryProcessor,
)
from pyschematron.direct_mode.xml_validation.results.validation_results import SkippedRuleResult
from pyschematron.utils import load_schematron_xml

HERE = Path(__file__).resolve().parent
CEN = HERE / "CEN-EN16931-UBL.sch"
PEPPOL = HERE / "PEPPOL-EN16931-UBL.sch"
XSD = {
    "Invoice": HERE / "ubl21" / "maindoc" / "UBL-Invoice-2.1.xsd",
    "CreditNote": HERE / "ubl21" / "maindoc" / "UBL-CreditNote-2.1.xsd",
}
RULE_SETS = {"CEN": CEN, "PEPPOL": PEPPOL}

_SVRL = "{http://purl.oclc.org/dsdl/svrl}"
_UTILS_NS = "utils"  # the namespace PEPPOL-EN16931-UBL.sch binds to the prefix u


@dataclass(frozen=True)
class Finding:
    """One failed assertion: which rule set, the rule id (e.g. ``BR-CO-10``), fatal or warning, the rule's text."""

    rule_set: str
    rule: str
    flag: str
    text: str

    @property
    def fatal(self) -> bool:
        return self.flag != "warning"

    def __str__(self) -> str:
        return f"{self.rule} [{self.flag}] {self.text}"


# --------------------------------------------------------------------------- the Peppol helper functions


def _string(value: Any) -> str:
    """What XSLT sees of an argument: the first item of a sequence, an element's text content, as a string."""
    if isinstance(value, list | tuple):
        value = value[0] if value else ""
    element = getattr(value, "elem", None)  # an elementpath node
    if element is not None:
        return "".join(element.itertext()).strip()
    return str(value).strip()


def _decimal(value: Any) -> Decimal:
    try:
        return Decimal(_string(value))
    except InvalidOperation:
        return Decimal("NaN")


def _weighted_check(value: str, weight: Any, modulus: int) -> bool:
    """The GLN / mod 11 pattern of the XSLT: digits before the last, reversed, weighted by position."""
    body, check = value[:-1], value[-1:]
    if not body.isdigit() or not check.isdigit():
        return False
    digits = [int(c) for c in reversed(body)]
    total = sum(d * weight(i) for i, d in enumerate(digits))
    return (modulus - total % modulus) % modulus == int(check)


def gln(value: Any) -> bool:
    return _weighted_check(_string(value), lambda i: 1 + ((i + 1) % 2) * 2, 10)


def mod11(value: Any) -> bool:
    v = _string(value)
    return v.isdigit() and int(v) > 0 and _weighted_check(v, lambda i: (i % 6) + 2, 11)


def mod97_0208(value: Any) -> bool:
    v = _string(value)
    if not (v[:8].isdigit() and v[8:10].isdigit()):
        return False
    return int(v[8:10]) == 97 - int(v[:8]) % 97


def slack(expected: Any, value: Any, tolerance: Any) -> bool:
    e, v, t = _decimal(expected), _decimal(value), _decimal(tolerance)
    return e + t >= v and e - t <= v


def abn(value: Any) -> bool:
    v = _string(value)
    if len(v) < 11 or not v[:11].isdigit():
        return False
    weights = (10, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19)
    digits = [int(v[0]) - 1] + [int(c) for c in v[1:11]]
    return sum(d * w for d, w in zip(digits, weights, strict=True)) % 89 == 0


def tin_verification(value: Any) -> bool:
    """Greek TIN check digit (GR-R-* rules)."""
    v = _string(value)
    if len(v) < 9 or not v[:9].isdigit():
        return False
    checksum = sum(int(v[i]) * 2 ** (8 - i) for i in range(8))
    return (checksum % 11) % 10 == int(v[8])


def check_se_orgnr(value: Any) -> bool:
    """Swedish organisation number: Luhn over the first nine digits against the tenth."""
    v = _string(value)
    if not v.isdigit() or len(v) < 10:
        return False
    main, check = v[:9], int(v[9])
    total = 0
    for pos, char in enumerate(reversed(main), start=1):
        d = int(char)
        total += (d * 2) % 10 + (d * 2) // 10 if pos % 2 == 1 else d
    return (10 - total % 10) % 10 == check


def check_codice_ipa(value: Any) -> bool:
    v = _string(value)
    return len(v) == 6 and v.isascii() and v.isalnum()


def _not_reimplemented(*_args: Any) -> bool:
    return True


def _zero(*_args: Any) -> int:
    return 0


PEPPOL_FUNCTIONS = [
    SimpleCustomXPathFunction(callback, name, "u")
    for name, callback in [
        ("gln", gln),
        ("slack", slack),
        ("mod11", mod11),
        ("mod97-0208", mod97_0208),
        ("abn", abn),
        ("TinVerification", tin_verification),
        ("checkSEOrgnr", check_se_orgnr),
        ("checkCodiceIPA", check_codice_ipa),
        ("checkCF", _not_reimplemented),
        ("checkCF16", _not_reimplemented),
        ("checkPIVAseIT", _not_reimplemented),
        ("checkPIVA", _zero),
        ("addPIVA", _zero),
    ]
]


# --------------------------------------------------------------------------- context matching, once a document


def _union_branches(expression: str) -> list[str]:
    """The top-level ``|`` branches of an XPath expression (brackets, parentheses and string literals respected)."""
    branches, depth, quote, start = [], 0, "", 0
    for i, char in enumerate(expression):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif char == "|" and depth == 0:
            branches.append(expression[start:i])
            start = i + 1
    branches.append(expression[start:])
    return [" ".join(b.split()) for b in branches]


def _document_of(node: Any) -> Any:
    while node.parent is not None:
        node = node.parent
    return node


class _ContextIndex:
    """Stands in for one rule validator's ``_node_matches_context``: the nodes its context selects, found once per
    document and then looked up by identity (the engine's own test is ``node in matches``, identity as well)."""

    def __init__(self, rule_validator: Any) -> None:
        parser = rule_validator._query_parser
        self._queries = [
            parser.parse(branch if branch.startswith("/") else f"descendant-or-self::node()/({branch})")
            for branch in _union_branches(rule_validator._rule.context.query)
        ]
        self._document: Any = None
        self._selected: list[Any] = []  # keeps the selected nodes alive while their ids are in _ids
        self._ids: set[int] = set()

    def __call__(self, xml_node: Any, evaluation_context: Any) -> bool:
        document = _document_of(xml_node)
        if document is not self._document:
            context = evaluation_context.with_context_item(document)
            selected: list[Any] = []
            for query in self._queries:
                result = query.evaluate(context)
                selected.extend(result if isinstance(result, list) else [result] if result is not None else [])
            self._document, self._selected, self._ids = document, selected, {id(n) for n in selected}
        return id(xml_node) in self._ids


class _ResultNodes:
    """The engine's description of a node (its path, found with a new XPath parser each time) for every rule it
    skips on that node; the description depends on the node alone, so it is made once per node and document."""

    def __init__(self) -> None:
        self._document: Any = None
        self._described: dict[int, tuple[Any, Any]] = {}  # id -> (node, description): the node kept alive

    def __call__(self, xml_node: Any) -> Any:
        document = _document_of(xml_node)
        if document is not self._document:
            self._document, self._described = document, {}
        entry = self._described.get(id(xml_node))
        if entry is None:
            entry = self._described[id(xml_node)] = (xml_node, _engine._to_result_node(xml_node))
        return entry[1]


def _index_contexts(compiled: DirectModeSchematronValidator) -> None:
    """Give every rule of a compiled rule set the indexed context test, and let it skip a node it does not match
    with the engine's own skipped-rule result, the node described once."""
    described = _ResultNodes()
    for pattern_validator in compiled._validator._pattern_validators:
        for rule_validator in pattern_validator._rule_validators:
            matches = _ContextIndex(rule_validator)
            rule_validator._node_matches_context = matches
            rule_validator.validate = _skipping(rule_validator, matches, described)


def _skipping(rule_validator: Any, matches: _ContextIndex, described: _ResultNodes) -> Any:
    fire = rule_validator.validate

    def validate(xml_node: Any, evaluation_context: Any) -> Any:
        if not matches(xml_node, evaluation_context):
            return SkippedRuleResult(described(xml_node), evaluation_context, rule_validator._rule)
        return fire(xml_node, evaluation_context)

    return validate


# --------------------------------------------------------------------------- compiled once per process


@functools.cache
def validator(rule_set: str, indexed: bool = True) -> SchematronValidator:
    """The compiled rule set ``"CEN"`` or ``"PEPPOL"``; ``indexed=False``: the engine's own context matching."""
    path = RULE_SETS[rule_set]
    schema = SchemaParser().parse(load_schematron_xml(path).getroot(), ParsingContext(base_path=path.parent))
    processors = ExtendableQueryProcessorFactory()
    if rule_set == "PEPPOL":
        # Both rule sets declare queryBinding="xslt2": an XPath 2 parser that knows the u: helpers. The prefix must
        # be bound before the functions are registered, so the parser is built with it.
        parser = XPath2QueryParser(namespaces={"u": _UTILS_NS}, custom_functions=PEPPOL_FUNCTIONS)
        processors.set_query_processor("xslt2", XPathQueryProcessor(parser))
    compiled = DirectModeSchematronValidator(schema, None, path.parent, processors)
    if indexed:
        _index_contexts(compiled)
    return compiled


@functools.cache
def xsd(root: str) -> etree.XMLSchema:
    """The compiled OASIS UBL 2.1 schema of a root element, ``"Invoice"`` or ``"CreditNote"``."""
    return etree.XMLSchema(etree.parse(str(XSD[root])))


# --------------------------------------------------------------------------- validating


def findings(document: bytes, rule_set: str, indexed: bool = True) -> list[Finding]:
    """Every failed assertion (fatal and warning) of one rule set on ``document``."""
    tree = etree.ElementTree(etree.fromstring(document))
    report = validator(rule_set, indexed).validate(tree).get_svrl().getroot()
    if not any(True for _ in report.iter(_SVRL + "fired-rule")):
        raise RuntimeError(f"no {rule_set} rule fired: is the document a UBL Invoice or CreditNote?")
    return [
        Finding(
            rule_set,
            failed.get("id") or "?",
            failed.get("flag") or "fatal",
            " ".join((failed.findtext(_SVRL + "text") or "").split()),
        )
        for failed in report.iter(_SVRL + "failed-assert")
    ]


def fatal_findings(document: bytes) -> list[Finding]:
    """The fatal findings of both rule sets (EN 16931, then Peppol): empty for a document Peppol accepts."""
    return [f for rule_set in RULE_SETS for f in findings(document, rule_set) if f.fatal]


def xsd_errors(document: bytes) -> list[str]:
    """What the OASIS UBL 2.1 schema says against ``document`` (its root picks Invoice or CreditNote)."""
    root = etree.fromstring(document)
    name = etree.QName(root).localname
    if name not in XSD:
        return [f"root element {name!r} is neither Invoice nor CreditNote"]
    schema = xsd(name)
    if schema.validate(root):
        return []
    return [f"line {e.line}: {e.message}" for e in schema.error_log]


def main(argv: list[str]) -> int:
    """``python -m tests.einvoice.rules FILE...``: each file against both rule sets and the UBL 2.1 XSD; prints
    ``ok`` or every failed rule, exits 1 on any fatal finding or schema error."""
    bad = 0
    for path in argv:
        document = Path(path).read_bytes()
        problems = [f"{f.rule_set} {f.rule}: {f.text}" for f in fatal_findings(document)]
        problems += [f"UBL 2.1 XSD {e}" for e in xsd_errors(document)]
        print(f"{path}: " + ("ok" if not problems else "INVALID"))
        for p in problems:
            print(f"  {p}")
        bad += bool(problems)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
