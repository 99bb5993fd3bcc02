"""The S3 document archive against moto's S3, in a bucket made as template.yaml's DocumentsBucket is (versioning,
Object Lock with the default retention of the dev and of the prod stack, encryption, public access block,
lifecycle, the bucket policy).

What moto covers: conditional writes (``If-None-Match: *`` answered with 412 PreconditionFailed when the key
exists), versioning, Object Lock default retention (a locked version cannot be deleted; its mode and retain-until
date are reported), the checksum an Object Lock bucket demands of every put, and the bucket policy's unconditional
statement (deletes denied to everyone). What it does not: it gets conditional Deny statements backwards (a Deny
whose condition does not hold denies), so the deny of unconditional writes and of plain HTTP is not applied here;
it never answers 409 ConditionalRequestConflict (simulated below), nor 403 for a missing key without
s3:ListBucket; it does not serialise concurrent conditional writes (S3 does).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from account_credit.platform import archive as archive_module
from account_credit.platform.archive import ArchiveConflict, S3Archive
from tools import template

moto = pytest.importorskip("moto")

BUCKET = "account-credit-documents-test"
PDF = "application/pdf"
KEY = "documents/acc_1/INV-2026-0001.pdf"


def _sub_arn(value: Any) -> Any:
    """The bucket policy's ``!Sub "${DocumentsBucket.Arn}/*"`` / ``!GetAtt DocumentsBucket.Arn`` for BUCKET."""
    arn = f"arn:aws:s3:::{BUCKET}"
    if isinstance(value, dict) and "Fn::Sub" in value:
        return value["Fn::Sub"].replace("${DocumentsBucket.Arn}", arn)
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return arn
    if isinstance(value, list):
        return [_sub_arn(v) for v in value]
    return value


def make_bucket(s3: Any, prod: bool) -> None:
    """The DocumentsBucket (and its policy) of template.yaml, with the stack's conditions resolved."""
    resources = template.load()["Resources"]
    props = resources["DocumentsBucket"]["Properties"]
    conditions = {"IsProd": prod}
    s3.create_bucket(Bucket=BUCKET, ObjectLockEnabledForBucket=props["ObjectLockEnabled"])
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration=props["VersioningConfiguration"])
    lock = props["ObjectLockConfiguration"]
    retention = lock["Rule"]["DefaultRetention"]
    s3.put_object_lock_configuration(
        Bucket=BUCKET,
        ObjectLockConfiguration={
            "ObjectLockEnabled": lock["ObjectLockEnabled"],
            "Rule": {
                "DefaultRetention": {
                    "Mode": template.resolve_if(retention["Mode"], conditions),
                    "Days": retention["Days"],
                }
            },
        },
    )
    s3.put_bucket_encryption(
        Bucket=BUCKET,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {"ApplyServerSideEncryptionByDefault": r["ServerSideEncryptionByDefault"]}
                for r in props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
            ]
        },
    )
    s3.put_public_access_block(Bucket=BUCKET, PublicAccessBlockConfiguration=props["PublicAccessBlockConfiguration"])
    s3.put_bucket_ownership_controls(Bucket=BUCKET, OwnershipControls=props["OwnershipControls"])
    rules = []
    for rule in props["LifecycleConfiguration"]["Rules"]:
        api: dict[str, Any] = {"ID": rule["Id"], "Status": rule["Status"], "Filter": {"Prefix": ""}}
        if "Transitions" in rule:
            api["Transitions"] = [
                {"Days": t["TransitionInDays"], "StorageClass": t["StorageClass"]} for t in rule["Transitions"]
            ]
        if "NoncurrentVersionExpiration" in rule:
            api["NoncurrentVersionExpiration"] = rule["NoncurrentVersionExpiration"]
        if "AbortIncompleteMultipartUpload" in rule:
            api["AbortIncompleteMultipartUpload"] = rule["AbortIncompleteMultipartUpload"]
        rules.append(api)
    s3.put_bucket_lifecycle_configuration(Bucket=BUCKET, LifecycleConfiguration={"Rules": rules})
    policy = resources["DocumentsBucketPolicy"]["Properties"]["PolicyDocument"]
    # moto evaluates a conditional Deny as a deny whatever the condition: only the unconditional statements here.
    statements = [{**st, "Resource": _sub_arn(st["Resource"])} for st in policy["Statement"] if "Condition" not in st]
    assert [st["Sid"] for st in statements] == ["DenyDelete"]
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps({**policy, "Statement": statements}))


@pytest.fixture(params=[False, True], ids=["dev", "prod"])
def prod(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


@pytest.fixture
def s3(prod: bool) -> Iterator[Any]:
    with moto.mock_aws():
        from account_credit.platform.archive import s3_client

        client = s3_client("us-east-1")
        make_bucket(client, prod)
        yield client


@pytest.fixture
def docs(s3: Any) -> S3Archive:
    return S3Archive(BUCKET, client=s3)


def versions(s3: Any, key: str) -> list[dict[str, Any]]:
    return list(s3.list_object_versions(Bucket=BUCKET, Prefix=key).get("Versions", []))


def test_the_bucket_is_the_template_s(s3: Any, prod: bool) -> None:
    assert s3.get_bucket_versioning(Bucket=BUCKET)["Status"] == "Enabled"
    lock = s3.get_object_lock_configuration(Bucket=BUCKET)["ObjectLockConfiguration"]
    retention = lock["Rule"]["DefaultRetention"]
    assert (retention["Mode"], retention["Days"]) == ("COMPLIANCE" if prod else "GOVERNANCE", 3653)


def test_a_document_is_written_once_locked_for_ten_years(docs: S3Archive, s3: Any, prod: bool) -> None:
    assert docs.put_once(KEY, b"%PDF-1.7 one", PDF) is True
    assert docs.get(KEY) == (b"%PDF-1.7 one", PDF)
    head = s3.head_object(Bucket=BUCKET, Key=KEY, ChecksumMode="ENABLED")
    assert head["ContentType"] == PDF
    assert head["ObjectLockMode"] == ("COMPLIANCE" if prod else "GOVERNANCE")
    ten_years = datetime.now(UTC) + timedelta(days=3653)
    assert abs(head["ObjectLockRetainUntilDate"] - ten_years) < timedelta(minutes=5)
    assert head.get("ChecksumSHA256"), "Object Lock needs a checksum on every put: the adapter sends SHA-256"
    assert len(versions(s3, KEY)) == 1


def test_the_same_bytes_again_are_a_redelivery_and_write_no_version(docs: S3Archive, s3: Any) -> None:
    docs.put_once(KEY, b"%PDF-1.7 one", PDF)
    assert docs.put_once(KEY, b"%PDF-1.7 one", PDF) is False
    assert len(versions(s3, KEY)) == 1


def test_different_bytes_never_replace_an_issued_document(docs: S3Archive, s3: Any) -> None:
    docs.put_once(KEY, b"first", PDF)
    with pytest.raises(ArchiveConflict):
        docs.put_once(KEY, b"second", PDF)
    assert docs.get(KEY) == (b"first", PDF)
    assert len(versions(s3, KEY)) == 1


def test_a_missing_document_is_none(docs: S3Archive) -> None:
    assert docs.get("documents/acc_1/INV-404.pdf") is None


def test_the_bucket_policy_refuses_deletes_even_a_delete_marker(docs: S3Archive, s3: Any) -> None:
    """Object Lock keeps versions, but would let a plain DELETE hide the document behind a delete marker."""
    from botocore.exceptions import ClientError

    docs.put_once(KEY, b"first", PDF)
    with pytest.raises(ClientError) as err:
        s3.delete_object(Bucket=BUCKET, Key=KEY)
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert docs.get(KEY) == (b"first", PDF)


def test_a_locked_version_cannot_be_deleted(docs: S3Archive, s3: Any, prod: bool) -> None:
    """Object Lock on its own (the bucket policy removed): in prod not even with the governance bypass."""
    docs.put_once(KEY, b"first", PDF)
    s3.delete_bucket_policy(Bucket=BUCKET)
    (version,) = versions(s3, KEY)
    with pytest.raises(Exception) as err:
        s3.delete_object(Bucket=BUCKET, Key=KEY, VersionId=version["VersionId"])
    assert err.value.response["Error"]["Code"] == "AccessDenied"  # type: ignore[attr-defined]
    if prod:
        with pytest.raises(Exception) as bypass:
            s3.delete_object(Bucket=BUCKET, Key=KEY, VersionId=version["VersionId"], BypassGovernanceRetention=True)
        assert bypass.value.response["Error"]["Code"] == "AccessDenied"  # type: ignore[attr-defined]
    assert docs.get(KEY) == (b"first", PDF)


def test_concurrent_writers_of_one_key(docs: S3Archive, s3: Any) -> None:
    """Four threads, the same bytes: at least one writes, none fails, one version. (moto does not serialise its
    existence check and its write, so "exactly one True" is S3's guarantee and the folder adapter's test.)"""
    results: list[bool] = []
    barrier = threading.Barrier(4)

    def write() -> None:
        barrier.wait()
        results.append(docs.put_once(KEY, b"the document", PDF))

    threads = [threading.Thread(target=write) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(results) == 4 and True in results
    assert docs.get(KEY) == (b"the document", PDF)


class _Conflicting:
    """The real client, but the first ``conflicts`` puts answer 409 ConditionalRequestConflict (S3's answer while
    another conditional write of the key is in flight; moto never gives it)."""

    def __init__(self, client: Any, conflicts: int) -> None:
        self.client = client
        self.conflicts = conflicts
        self.puts = 0

    def put_object(self, **kwargs: Any) -> Any:
        from botocore.exceptions import ClientError

        self.puts += 1
        if self.puts <= self.conflicts:
            error = {"Error": {"Code": "ConditionalRequestConflict", "Message": "in flight"}}
            raise ClientError(error, "PutObject")  # type: ignore[arg-type]
        return self.client.put_object(**kwargs)

    def get_object(self, **kwargs: Any) -> Any:
        return self.client.get_object(**kwargs)


def test_a_conflicting_write_in_flight_is_tried_again(s3: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(archive_module.time, "sleep", lambda _s: None)
    flaky = _Conflicting(s3, conflicts=2)
    assert S3Archive(BUCKET, client=flaky).put_once(KEY, b"one", PDF) is True
    assert flaky.puts == 3


def test_a_write_that_keeps_conflicting_fails(s3: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from botocore.exceptions import ClientError

    monkeypatch.setattr(archive_module.time, "sleep", lambda _s: None)
    flaky = _Conflicting(s3, conflicts=100)
    with pytest.raises(ClientError):
        S3Archive(BUCKET, client=flaky).put_once(KEY, b"one", PDF)
    assert flaky.puts == archive_module.CONFLICT_ATTEMPTS


def test_the_process_archive_is_s3_when_the_bucket_is_set(s3: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCUMENTS_BUCKET", BUCKET)
    archive_module.archive.cache_clear()
    try:
        found = archive_module.archive()
        assert isinstance(found, S3Archive)
        assert found.put_once("documents/acc_2/CN-1.xml", b"<CreditNote/>", "application/xml") is True
        assert s3.get_object(Bucket=BUCKET, Key="documents/acc_2/CN-1.xml")["Body"].read() == b"<CreditNote/>"
    finally:
        archive_module.archive.cache_clear()
