"""The document archive's folder adapter (the one the local stack and the tests use) and the choice of adapter.

The S3 adapter is tested against moto in tests/integration/test_archive_s3.py.
"""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path
from typing import Any

import pytest

from account_credit.platform import archive as archive_module
from account_credit.platform.archive import ArchiveConflict, FolderArchive, S3Archive, check_key

PDF = "application/pdf"
XML = "application/xml"


def test_a_document_is_written_once(tmp_path: Path) -> None:
    docs = FolderArchive(tmp_path)
    assert docs.put_once("documents/acc_1/INV-2026-0001.pdf", b"%PDF-1.7 one", PDF) is True
    assert docs.get("documents/acc_1/INV-2026-0001.pdf") == (b"%PDF-1.7 one", PDF)
    assert (tmp_path / "documents" / "acc_1" / "INV-2026-0001.pdf").read_bytes() == b"%PDF-1.7 one"


def test_the_same_bytes_again_are_a_redelivery(tmp_path: Path) -> None:
    docs = FolderArchive(tmp_path)
    assert docs.put_once("documents/acc_1/INV-1.xml", b"<Invoice/>", XML) is True
    assert docs.put_once("documents/acc_1/INV-1.xml", b"<Invoice/>", XML) is False
    assert docs.get("documents/acc_1/INV-1.xml") == (b"<Invoice/>", XML)


def test_different_bytes_never_replace_an_issued_document(tmp_path: Path) -> None:
    docs = FolderArchive(tmp_path)
    docs.put_once("documents/acc_1/INV-1.pdf", b"first", PDF)
    with pytest.raises(ArchiveConflict) as err:
        docs.put_once("documents/acc_1/INV-1.pdf", b"second", PDF)
    assert err.value.key == "documents/acc_1/INV-1.pdf"
    assert docs.get("documents/acc_1/INV-1.pdf") == (b"first", PDF)


def test_no_temporary_files_are_left_and_the_document_is_read_only(tmp_path: Path) -> None:
    docs = FolderArchive(tmp_path)
    docs.put_once("documents/acc_1/INV-1.pdf", b"first", PDF)
    docs.put_once("documents/acc_1/INV-1.pdf", b"first", PDF)
    with pytest.raises(ArchiveConflict):
        docs.put_once("documents/acc_1/INV-1.pdf", b"other", PDF)
    folder = tmp_path / "documents" / "acc_1"
    assert sorted(p.name for p in folder.iterdir()) == ["INV-1.pdf"]
    assert (folder / "INV-1.pdf").stat().st_mode & 0o222 == 0


def test_a_missing_document_is_none(tmp_path: Path) -> None:
    assert FolderArchive(tmp_path).get("documents/acc_1/INV-404.pdf") is None
    assert FolderArchive(tmp_path / "not-created-yet").get("documents/acc_1/INV-404.pdf") is None


def test_an_empty_document_is_a_document(tmp_path: Path) -> None:
    docs = FolderArchive(tmp_path)
    assert docs.put_once("documents/acc_1/empty.xml", b"", XML) is True
    assert docs.put_once("documents/acc_1/empty.xml", b"", XML) is False
    with pytest.raises(ArchiveConflict):
        docs.put_once("documents/acc_1/empty.xml", b"x", XML)


@pytest.mark.parametrize(
    "key",
    [
        "",
        "/documents/acc_1/INV-1.pdf",
        "documents//INV-1.pdf",
        "documents/../INV-1.pdf",
        "documents/./INV-1.pdf",
        "documents/acc_1/.INV-1.pdf",
        "documents/acc 1/INV-1.pdf",
        "documents\\acc_1\\INV-1.pdf",
        "documents/acc_1/INV-1.pdf/",
        "documents/acc_1/INV-1.exe",
        "documents/acc_1/INV-1",
        "documents/" + "a" * 1020 + ".pdf",
    ],
)
def test_keys_are_plain_relative_paths_with_a_known_extension(tmp_path: Path, key: str) -> None:
    with pytest.raises(ValueError):
        FolderArchive(tmp_path).put_once(key, b"x", PDF)
    with pytest.raises(ValueError):
        S3Archive("bucket", client=object()).put_once(key, b"x", PDF)  # refused before any call
    assert list(tmp_path.iterdir()) == []


def test_the_content_type_follows_the_extension() -> None:
    assert check_key("documents/acc_1/INV-1.PDF", PDF) == "documents/acc_1/INV-1.PDF"
    with pytest.raises(ValueError, match="application/pdf"):
        check_key("documents/acc_1/INV-1.pdf", XML)
    with pytest.raises(ValueError):
        FolderArchive("/nonexistent").put_once("documents/acc_1/INV-1.xml", b"<x/>", "text/xml")


# --------------------------------------------------------------------------- concurrent writers

WRITERS = 4
KEYS = [f"documents/acc_race/INV-{i}.pdf" for i in range(20)]


def _writer(root: str, same_bytes: bool, writer: int, start: Any, results: Any) -> None:
    docs = FolderArchive(root)
    start.wait()
    out = []
    for key in KEYS:
        body = b"the document" if same_bytes else f"writer {writer}".encode()
        try:
            out.append((key, "written" if docs.put_once(key, body, PDF) else "there"))
        except ArchiveConflict:
            out.append((key, "conflict"))
    results.put((writer, out))


@pytest.mark.parametrize("same_bytes", [True, False], ids=["same-bytes", "different-bytes"])
def test_of_four_processes_writing_one_key_exactly_one_writes(tmp_path: Path, same_bytes: bool) -> None:
    ctx = multiprocessing.get_context("spawn")
    start, results = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_writer, args=(str(tmp_path), same_bytes, w, start, results)) for w in range(WRITERS)]
    for p in procs:
        p.start()
    start.set()
    got = dict(results.get(timeout=60) for _ in procs)
    for p in procs:
        p.join(30)
        assert p.exitcode == 0
    docs = FolderArchive(tmp_path)
    for key in KEYS:
        outcomes = {w: dict(got[w])[key] for w in got}
        winners = [w for w, o in outcomes.items() if o == "written"]
        assert len(winners) == 1, (key, outcomes)
        losers = {o for w, o in outcomes.items() if w != winners[0]}
        assert losers == ({"there"} if same_bytes else {"conflict"})
        stored = docs.get(key)
        assert stored == (b"the document" if same_bytes else f"writer {winners[0]}".encode(), PDF)
    assert sorted(p.name for p in (tmp_path / "documents" / "acc_race").iterdir()) == sorted(
        k.rsplit("/", 1)[1] for k in KEYS
    )


# --------------------------------------------------------------------------- which adapter


@pytest.fixture
def fresh_archive(monkeypatch: pytest.MonkeyPatch) -> Any:
    for name in ("DOCUMENTS_BUCKET", "LOCAL_DOCUMENTS_DIR", "LOCAL_STATE_DIR", "AWS_LAMBDA_FUNCTION_NAME"):
        monkeypatch.delenv(name, raising=False)
    archive_module.archive.cache_clear()
    yield archive_module.archive
    archive_module.archive.cache_clear()


def test_s3_when_a_bucket_is_configured(fresh_archive: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCUMENTS_BUCKET", "acme-documents")
    found = fresh_archive()
    assert isinstance(found, S3Archive) and found.bucket == "acme-documents"
    assert fresh_archive() is found  # one per process


def test_the_local_folder_in_order_of_precedence(
    fresh_archive: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DOCUMENTS_BUCKET", "")  # the local server's value of the template's !Ref DocumentsBucket
    found = fresh_archive()
    assert isinstance(found, FolderArchive) and found.root == Path(".local") / "documents"
    fresh_archive.cache_clear()
    monkeypatch.setenv("LOCAL_STATE_DIR", str(tmp_path / "state"))
    assert fresh_archive().root == tmp_path / "state" / "documents"
    fresh_archive.cache_clear()
    monkeypatch.setenv("LOCAL_DOCUMENTS_DIR", str(tmp_path / "docs"))
    assert fresh_archive().root == tmp_path / "docs"


def test_in_lambda_a_missing_bucket_is_a_configuration_error(
    fresh_archive: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "account-credit-documents")
    with pytest.raises(ValueError, match="DOCUMENTS_BUCKET"):
        fresh_archive()


def test_the_archive_module_does_not_import_boto3() -> None:
    """A function that never archives does not pay for boto3 at a cold start (it is imported on first S3 use)."""
    import subprocess
    import sys

    code = "import sys, account_credit.platform.archive; print('boto3' in sys.modules)"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "shared")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert out.stdout.strip() == "False"
