"""template.yaml's shape where a mistake would not fail a build: every function and queue has its alarms (and they
notify someone), what prod must keep is retained, the SES identity is taken or created; every asynchronous function
has a failure destination with an alarm, every function a log group, the documents bucket keeps what it stores, the
S3 grants stay on the documents, the seller settings reach the functions, and the local tools read the new pieces
(schedules with Input, cron schedules, the documents stream filter, the second layer).

tools/check_template.sh lints, validates and builds the same template (``make template``).
"""

from __future__ import annotations

import io
import json
import threading
from contextlib import redirect_stdout
from typing import Any

import pytest

from tools import alarms, local_server, schedule, streams, template

RESOURCES: dict[str, Any] = template.load()["Resources"]
FUNCTIONS = template.functions()
DEV = {"IsProd": False, "CreateUserPool": True}
PROD = {"IsProd": True, "CreateUserPool": True}


def _ref_name(value: Any) -> str:
    """The logical id of ``!GetAtt X.Arn`` / ``!Ref X`` / ``!GetAtt X.QueueName``."""
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        got = value["Fn::GetAtt"]
        return str(got.split(".")[0] if isinstance(got, str) else got[0])
    if isinstance(value, dict) and "Ref" in value:
        return str(value["Ref"])
    raise AssertionError(f"not a reference: {value!r}")


def _alarmed_queues() -> set[str]:
    out = set()
    for res in RESOURCES.values():
        if res["Type"] == "AWS::CloudWatch::Alarm":
            props = res["Properties"]
            if props["Namespace"] == "AWS/SQS" and props["MetricName"] == "ApproximateNumberOfMessagesVisible":
                out |= {_ref_name(d["Value"]) for d in props["Dimensions"] if d["Name"] == "QueueName"}
    return out


def _statements(function: str) -> list[dict[str, Any]]:
    return [st for policy in FUNCTIONS[function].get("Policies") or [] for st in policy.get("Statement", [])]


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# --------------------------------------------------------------------------- every function


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_every_function_has_a_log_group_with_retention(function: str) -> None:
    group = RESOURCES[f"{function}LogGroup"]["Properties"]
    assert group["LogGroupName"] == {"Fn::Sub": f"/aws/lambda/${{{function}}}"}
    assert group["RetentionInDays"] == {"Ref": "LogRetentionDays"}


STREAM_FUNCTIONS = sorted(
    name for name, props in FUNCTIONS.items() if any(e["Type"] == "DynamoDB" for e in props["Events"].values())
)
SCHEDULED_FUNCTIONS = sorted(
    name
    for name, props in FUNCTIONS.items()
    if any(e["Type"] in {"Schedule", "ScheduleV2"} for e in props.get("Events", {}).values())
)


def test_the_new_functions_are_among_the_asynchronous_ones() -> None:
    assert {"DocumentsFunction", "NotifyFunction", "SequencerFunction"} <= set(STREAM_FUNCTIONS)
    assert {"BillingRunFunction", "ThresholdScanFunction"} <= set(SCHEDULED_FUNCTIONS)


@pytest.mark.parametrize("function", STREAM_FUNCTIONS)
def test_stream_functions_report_partial_failures_and_park_the_rest_in_an_alarmed_queue(function: str) -> None:
    for event in FUNCTIONS[function]["Events"].values():
        if event["Type"] != "DynamoDB":
            continue
        props = event["Properties"]
        assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert props["BisectBatchOnFunctionError"] is True
        assert 0 < props["MaximumRetryAttempts"] <= 10
        assert props["FilterCriteria"]["Filters"], "a stream function sees only the records it is for"
        on_failure = props["DestinationConfig"]["OnFailure"]
        assert on_failure["Type"] == "SQS"
        queue = _ref_name(on_failure["Destination"])
        assert RESOURCES[queue]["Type"] == "AWS::SQS::Queue"
        assert queue in _alarmed_queues()


@pytest.mark.parametrize("function", SCHEDULED_FUNCTIONS)
def test_scheduled_functions_park_failed_runs_in_an_alarmed_queue(function: str) -> None:
    props = FUNCTIONS[function]
    on_failure = props["EventInvokeConfig"]["DestinationConfig"]["OnFailure"]
    assert on_failure["Type"] == "SQS"
    queue = _ref_name(on_failure["Destination"])
    assert queue in _alarmed_queues()
    scheduler_may_send = {
        _ref_name(q)
        for res in RESOURCES.values()
        if res["Type"] == "AWS::SQS::QueuePolicy"
        for st in res["Properties"]["PolicyDocument"]["Statement"]
        if st.get("Principal", {}).get("Service") == "scheduler.amazonaws.com"
        for q in res["Properties"]["Queues"]
    }
    for event in props["Events"].values():
        if event["Type"] == "ScheduleV2":
            dead_letters = _ref_name(event["Properties"]["DeadLetterConfig"]["Arn"])
            assert dead_letters in _alarmed_queues() and dead_letters in scheduler_may_send
            assert event["Properties"]["RetryPolicy"]["MaximumRetryAttempts"] >= 1


# --------------------------------------------------------------------------- the new functions


def test_the_documents_function() -> None:
    props = FUNCTIONS["DocumentsFunction"]
    assert (props["CodeUri"], props["Handler"], props["Timeout"], props["MemorySize"]) == (
        "functions/documents/",
        "app.lambda_handler",
        60,
        1024,
    )
    assert template.function_layers("DocumentsFunction") == ["SharedLayer", "DocumentsLayer"]
    assert props["EnvironmentVariables"]["DOCUMENTS_BUCKET"] == {"Ref": "DocumentsBucket"}


def test_the_billing_run_function_and_its_schedules() -> None:
    props = FUNCTIONS["BillingRunFunction"]
    assert (props["CodeUri"], props["Handler"]) == ("functions/billing_run/", "app.lambda_handler")
    assert props["Timeout"] == 900
    assert template.function_layers("BillingRunFunction") == ["SharedLayer"]
    found = {s["event"]: s for s in template.schedules() if s["function"] == "BillingRunFunction"}
    assert {name: (s["expression"], json.loads(s["input"])) for name, s in found.items()} == {
        "MonthlyBilling": ("cron(0 3 1 * ? *)", {"run": "monthly"}),
        "OverdueScan": ("cron(0 7 * * ? *)", {"run": "overdue"}),
    }
    for name in found:
        assert props["Events"][name]["Properties"]["ScheduleExpressionTimezone"] == "UTC"


def test_the_email_functions_carry_the_documents_layer() -> None:
    assert template.function_layers("NotifyFunction") == ["SharedLayer", "DocumentsLayer"]
    assert template.function_layers("ThresholdScanFunction") == ["SharedLayer", "DocumentsLayer"]
    assert FUNCTIONS["NotifyFunction"]["EnvironmentVariables"]["DOCUMENTS_BUCKET"] == {"Ref": "DocumentsBucket"}
    (send,) = [st for st in _statements("NotifyFunction") if st["Sid"] == "SendEmail"]
    assert send["Action"] == ["ses:SendEmail", "ses:SendRawEmail"]


def test_the_layers_share_the_runtime_and_architecture() -> None:
    for name in ("SharedLayer", "DocumentsLayer"):
        layer = RESOURCES[name]
        assert layer["Properties"]["CompatibleRuntimes"] == [FUNCTIONS["DocumentsFunction"]["Runtime"]]
        assert layer["Properties"]["CompatibleArchitectures"] == FUNCTIONS["DocumentsFunction"]["Architectures"]
        assert layer["Metadata"] == {"BuildMethod": "makefile", "BuildArchitecture": "arm64"}
    assert RESOURCES["DocumentsLayer"]["Properties"]["ContentUri"] == "documents/"


DOCUMENT_RECORDS = [
    ("MODIFY", "entry", "deposit_bank_transfer"),  # an entry placed (or linked to a document: the handler skips it)
    ("MODIFY", "entry", "order_balance"),
    ("MODIFY", "entry", "order_card"),
    ("INSERT", "event", "document.issued"),
]


def _record(event_name: str, kind: str, type_: str | None) -> dict[str, Any]:
    image: dict[str, Any] = {"pk": {"S": "ACCOUNT#acc_1"}, "sk": {"S": "EVENT#x"}, "kind": {"S": kind}}
    if type_ is not None:
        image["type"] = {"S": type_}
    return {"eventName": event_name, "dynamodb": {"NewImage": image}}


def _documents_filters() -> list[Any]:
    (fn,) = [f for f in streams.stream_functions() if f["function"] == "DocumentsFunction"]
    assert fn["code_uri"] == "functions/documents/" and fn["batch_size"] == 10
    return list(fn["filters"])


@pytest.mark.parametrize(("event_name", "kind", "type_"), DOCUMENT_RECORDS)
def test_the_documents_stream_filter_lets_placed_entries_and_issued_documents_through(
    event_name: str, kind: str, type_: str
) -> None:
    assert any(streams.matches(p, _record(event_name, kind, type_)) for p in _documents_filters())


@pytest.mark.parametrize(
    "record",
    [
        _record("MODIFY", "event", "order.paid"),
        _record("REMOVE", "event", "order.paid"),
        _record("INSERT", "event", "order.declined"),
        _record("INSERT", "event", "balance.debited"),
        _record("INSERT", "event", None),
        _record("INSERT", "account", "order.paid"),
        _record("INSERT", "entry", "deposit_card"),  # written unplaced: its placement is the MODIFY
        _record("MODIFY", "account", None),
        _record("INSERT", "event", "document.stored"),
    ],
)
def test_the_documents_stream_filter_keeps_everything_else_out(record: dict[str, Any]) -> None:
    assert not any(streams.matches(p, record) for p in _documents_filters())


# --------------------------------------------------------------------------- least privilege


def test_the_documents_function_reaches_the_table_and_the_documents_only() -> None:
    by_sid = {st["Sid"]: st for st in _statements("DocumentsFunction")}
    assert sorted(by_sid["TableItems"]["Action"]) == sorted(
        [
            "dynamodb:GetItem",
            "dynamodb:Query",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:ConditionCheckItem",
            "dynamodb:DeleteItem",
        ]
    )
    assert by_sid["TableItems"]["Resource"] == [{"Fn::GetAtt": "Table.Arn"}]
    assert by_sid["ArchiveDocuments"]["Action"] == ["s3:PutObject", "s3:GetObject"]


def test_the_billing_run_reaches_the_table_and_the_payment_secret_only() -> None:
    """It pays subscription inventory charged "on the next invoice" (orders: a card charge may need the provider)."""
    actions = {a for st in _statements("BillingRunFunction") for a in _listed(st["Action"])}
    assert actions == {
        "secretsmanager:GetSecretValue",
        "dynamodb:BatchGetItem",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:ConditionCheckItem",
        "dynamodb:Query",
        "dynamodb:DeleteItem",
    }


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_s3_grants_are_on_the_documents_prefix_of_the_documents_bucket(function: str) -> None:
    # Statement exports (statements/service.py) are archived under their own prefix, by their own function.
    prefix = "exports" if function == "StatementsFunction" else "documents"
    documents = {"Fn::Sub": f"${{DocumentsBucket.Arn}}/{prefix}/*"}
    bucket = {"Fn::GetAtt": "DocumentsBucket.Arn"}
    for st in _statements(function):
        actions = _listed(st["Action"])
        s3 = [a for a in actions if a.startswith("s3:")]
        if not s3:
            continue
        assert st["Effect"] == "Allow" and "Condition" not in st
        assert s3 == actions, "S3 grants stand alone"
        if s3 == ["s3:ListBucket"]:  # a missing key reads as 404 instead of 403
            assert _listed(st["Resource"]) == [bucket]
        else:
            assert set(s3) <= {"s3:GetObject", "s3:PutObject"}
            assert _listed(st["Resource"]) == [documents]
    writers = {f for f in FUNCTIONS for st in _statements(f) if "s3:PutObject" in _listed(st["Action"])}
    assert writers == {"DocumentsFunction", "StatementsFunction"}


# --------------------------------------------------------------------------- the documents bucket


def test_the_documents_bucket_keeps_every_document_ten_years() -> None:
    bucket = RESOURCES["DocumentsBucket"]
    assert bucket["DeletionPolicy"] == bucket["UpdateReplacePolicy"] == "Retain"
    props = bucket["Properties"]
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    assert props["ObjectLockEnabled"] is True
    lock = props["ObjectLockConfiguration"]
    assert lock["ObjectLockEnabled"] == "Enabled"
    retention = lock["Rule"]["DefaultRetention"]
    assert retention["Days"] == 3653
    assert template.resolve_if(retention["Mode"], DEV) == "GOVERNANCE"
    assert template.resolve_if(retention["Mode"], PROD) == "COMPLIANCE"
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    (sse,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert sse["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in {"AES256", "aws:kms"}
    rules = {r["Id"]: r for r in props["LifecycleConfiguration"]["Rules"]}
    assert all(r["Status"] == "Enabled" for r in rules.values())
    assert not any("ExpirationInDays" in r or "ExpirationDate" in r for r in rules.values()), "current versions stay"
    transitions = [t for r in rules.values() for t in r.get("Transitions", [])]
    assert transitions == [{"StorageClass": "GLACIER_IR", "TransitionInDays": 90}]
    noncurrent = [r["NoncurrentVersionExpiration"] for r in rules.values() if "NoncurrentVersionExpiration" in r]
    assert all(n["NoncurrentDays"] >= 3653 for n in noncurrent)


def test_the_bucket_policy_denies_deletes_overwrites_and_plain_http_to_everyone() -> None:
    policy = RESOURCES["DocumentsBucketPolicy"]["Properties"]
    assert policy["Bucket"] == {"Ref": "DocumentsBucket"}
    statements = {st["Sid"]: st for st in policy["PolicyDocument"]["Statement"]}
    assert all(st["Effect"] == "Deny" and st["Principal"] == "*" for st in statements.values())
    delete = statements["DenyDelete"]
    assert sorted(delete["Action"]) == ["s3:DeleteObject", "s3:DeleteObjectVersion"]
    assert "Condition" not in delete
    assert statements["DenyUnconditionalWrites"]["Condition"] == {"Null": {"s3:if-none-match": "true"}}
    tls = statements["DenyInsecureTransport"]
    assert tls["Action"] == "s3:*"
    assert tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert len(tls["Resource"]) == 2


# --------------------------------------------------------------------------- seller and tax settings

SETTINGS = {
    "SELLER_NAME": ("SellerName", ""),
    "SELLER_STREET": ("SellerStreet", ""),
    "SELLER_CITY": ("SellerCity", ""),
    "SELLER_POSTAL_CODE": ("SellerPostalCode", ""),
    "SELLER_COUNTRY": ("SellerCountry", ""),
    "SELLER_VAT_ID": ("SellerVatId", ""),
    "SELLER_COMPANY_ID": ("SellerCompanyId", ""),
    "SELLER_IBAN": ("SellerIban", ""),
    "SELLER_BIC": ("SellerBic", ""),
    "SELLER_BANK_NAME": ("SellerBankName", ""),
    "SELLER_EMAIL": ("SellerEmail", ""),
    "SELLER_PEPPOL_ENDPOINT": ("SellerPeppolEndpoint", ""),
    "VAT_REGISTERED": ("VatRegistered", "false"),
    "VAT_RATE": ("VatRate", "0"),
    "DOCUMENT_LANGUAGES": ("DocumentLanguages", "en,sk"),
    "INVOICE_DUE_DAYS": ("InvoiceDueDays", "14"),
}
DOCUMENT_FUNCTIONS = [
    "DepositFunction",
    "WebhooksFunction",
    "OrderFunction",
    "AccountsFunction",
    "DocumentsFunction",
    "BillingRunFunction",
    "NotifyFunction",
]


@pytest.mark.parametrize("function", DOCUMENT_FUNCTIONS)
def test_the_seller_and_tax_settings_reach_every_function_that_issues_or_renders_documents(function: str) -> None:
    env = FUNCTIONS[function]["EnvironmentVariables"]
    assert {name: env.get(name) for name in SETTINGS} == {name: {"Ref": p} for name, (p, _d) in SETTINGS.items()}


def test_the_settings_have_their_documented_defaults() -> None:
    params = template.load()["Parameters"]
    assert {name: str(params[p]["Default"]) for name, (p, _d) in SETTINGS.items()} == {
        name: default for name, (_p, default) in SETTINGS.items()
    }
    local = local_server.function_environment("t")
    assert {name: local[name] for name in SETTINGS} == {name: default for name, (_p, default) in SETTINGS.items()}
    assert local["DOCUMENTS_BUCKET"] == ""  # locally the archive is a folder (platform/archive.py)


# --------------------------------------------------------------------------- local schedules


def test_a_schedule_with_input_delivers_the_input_and_the_option_replaces_it() -> None:
    found = {s["event"]: s for s in template.schedules()}
    assert schedule.schedule_payload(found["MonthlyBilling"]) == {"run": "monthly"}
    given = {"run": "monthly", "month": "2026-11", "account_id": "acc_x"}
    assert schedule.schedule_payload(found["MonthlyBilling"], given) == given
    plain = schedule.schedule_payload(found["LowBalanceScan"])  # no Input: a scheduled event
    assert plain["detail-type"] == "Scheduled Event"


def test_fire_invokes_the_function_of_the_schedule_with_its_payload() -> None:
    found = {s["event"]: s for s in template.schedules()}
    calls: list[tuple[str, Any]] = []

    def invoke(function: str, event: Any) -> str:
        calls.append((function, event))
        return "ok"

    assert schedule.fire(found["OverdueScan"], invoke) == "ok"
    assert schedule.fire(found["MonthlyBilling"], invoke, {"run": "monthly", "month": "2026-11"}) == "ok"
    assert calls == [
        ("BillingRunFunction", {"run": "overdue"}),
        ("BillingRunFunction", {"run": "monthly", "month": "2026-11"}),
    ]


def test_the_local_server_fires_rate_schedules_and_names_the_cron_ones_it_leaves_alone() -> None:
    cron = {s["event"]: local_server.is_cron(s["expression"]) for s in template.schedules()}
    assert cron == {
        "LowBalanceScan": False,
        "MonthlyBilling": True,
        "OverdueScan": True,
        "CardExpiryScan": True,
        "RenewalRun": True,
        "Reconciliation": True,
    }
    assert local_server.parse_rate("rate(1 hour)") == 3600
    stop = threading.Event()
    stop.set()
    out = io.StringIO()
    with redirect_stdout(out):
        local_server.run_schedules(stop, lambda function, event: pytest.fail("nothing is due"))
    (line,) = out.getvalue().splitlines()
    assert "MonthlyBilling, OverdueScan" in line and "tools.schedule" in line


# --------------------------------------------------------------------------- alarms that reach someone

ALARMS = {name: res["Properties"] for name, res in RESOURCES.items() if res["Type"] == "AWS::CloudWatch::Alarm"}
QUEUES = sorted(name for name, res in RESOURCES.items() if res["Type"] == "AWS::SQS::Queue")
NOBODY = {"HasAlarmTopic": False, "HasAlarmEmail": False}
EMAIL = {"HasAlarmTopic": False, "HasAlarmEmail": True, "CreateAlarmTopic": True}
TOPIC = {"HasAlarmTopic": True, "HasAlarmEmail": False}
BOTH = {"HasAlarmTopic": True, "HasAlarmEmail": True}


def _lambda_alarms(metric: str) -> dict[str, dict[str, Any]]:
    """Function logical id -> its alarm on ``metric`` (AWS/Lambda, FunctionName dimension)."""
    out = {}
    for props in ALARMS.values():
        if props["Namespace"] == "AWS/Lambda" and props["MetricName"] == metric:
            (dim,) = props["Dimensions"]
            assert dim["Name"] == "FunctionName"
            out[_ref_name(dim["Value"])] = props
    return out


def test_the_generated_alarms_are_up_to_date() -> None:
    """A function added or removed without ``python -m tools.alarms --write`` fails here."""
    text = template.TEMPLATE.read_text()
    assert alarms.replace_section(text, alarms.section()) == text, "run: .venv/bin/python -m tools.alarms --write"


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_every_function_has_an_errors_and_a_throttles_alarm(function: str) -> None:
    for metric in ("Errors", "Throttles"):
        props = _lambda_alarms(metric)[function]
        assert (props["Statistic"], props["Threshold"], props["ComparisonOperator"]) == (
            "Sum",
            0,
            "GreaterThanThreshold",
        )
        assert props["TreatMissingData"] == "notBreaching"


def test_the_stream_consumers_are_found() -> None:
    assert alarms.stream_consumers(FUNCTIONS) == STREAM_FUNCTIONS
    assert {"SequencerFunction", "NotifyFunction", "DocumentsFunction"} <= set(STREAM_FUNCTIONS)


@pytest.mark.parametrize("function", STREAM_FUNCTIONS)
def test_every_stream_consumer_has_an_iterator_age_alarm(function: str) -> None:
    props = _lambda_alarms("IteratorAge")[function]
    assert props["Statistic"] == "Maximum"
    assert 0 < props["Threshold"] < 24 * 3600 * 1000, "well before the stream's 24 h retention drops records"


@pytest.mark.parametrize("queue", QUEUES)
def test_every_queue_has_a_depth_alarm(queue: str) -> None:
    assert queue in _alarmed_queues()


def test_the_http_api_answering_5xx_alarms() -> None:
    (props,) = [p for p in ALARMS.values() if p["Namespace"] == "AWS/ApiGateway"]
    assert props["MetricName"] == "5xx"
    assert props["Dimensions"] == [{"Name": "ApiId", "Value": {"Ref": "HttpApi"}}]
    assert (props["Statistic"], props["Threshold"]) == ("Sum", 0)


def test_reconciliation_mismatches_alarm() -> None:
    props = ALARMS["ReconciliationMismatchAlarm"]
    assert (props["Namespace"], props["MetricName"]) == ("AccountCredit", "ReconciliationMismatches")


@pytest.mark.parametrize("alarm", sorted(ALARMS))
def test_every_alarm_notifies_the_topic_or_the_email(alarm: str) -> None:
    actions = ALARMS[alarm]["AlarmActions"]
    assert template.resolve_if(actions, NOBODY) == {"Ref": "AWS::NoValue"}
    assert template.resolve_if(actions, EMAIL) == [{"Ref": "AlarmTopic"}]
    assert template.resolve_if(actions, TOPIC) == [{"Ref": "AlarmTopicArn"}]
    assert template.resolve_if(actions, BOTH) == [{"Ref": "AlarmTopicArn"}]


def test_the_alarm_email_is_subscribed_to_the_topic_the_alarms_notify() -> None:
    conditions = template.load()["Conditions"]
    assert conditions["CreateAlarmTopic"] == {
        "Fn::And": [{"Fn::Condition": "HasAlarmEmail"}, {"Fn::Not": [{"Fn::Condition": "HasAlarmTopic"}]}]
    }
    assert RESOURCES["AlarmTopic"]["Condition"] == "CreateAlarmTopic"
    sub = RESOURCES["AlarmEmailSubscription"]
    assert sub["Condition"] == "HasAlarmEmail"
    props = sub["Properties"]
    assert (props["Protocol"], props["Endpoint"]) == ("email", {"Ref": "AlarmEmail"})
    assert template.resolve_if(props["TopicArn"], EMAIL) == {"Ref": "AlarmTopic"}
    assert template.resolve_if(props["TopicArn"], BOTH) == {"Ref": "AlarmTopicArn"}
    params = template.load()["Parameters"]
    assert params["AlarmEmail"]["Default"] == params["AlarmTopicArn"]["Default"] == ""


# --------------------------------------------------------------------------- what outlives the stack

KEPT_TYPES = {"AWS::Cognito::UserPool", "AWS::SecretsManager::Secret", "AWS::S3::Bucket", "AWS::DynamoDB::Table"}
KEPT = sorted(name for name, res in RESOURCES.items() if res["Type"] in KEPT_TYPES)


def test_the_language_extensions_resolve_conditional_deletion_policies_before_sam() -> None:
    assert template.load()["Transform"] == ["AWS::LanguageExtensions", "AWS::Serverless-2016-10-31"]


def test_the_user_pool_secrets_buckets_and_table_are_all_kept() -> None:
    assert {"UserPool", "PaymentSecrets", "DocumentsBucket", "Table"} <= set(KEPT)


@pytest.mark.parametrize("resource", KEPT)
def test_prod_retains_the_user_pool_secrets_buckets_and_table(resource: str) -> None:
    res = RESOURCES[resource]
    for policy in ("DeletionPolicy", "UpdateReplacePolicy"):
        assert template.resolve_if(res[policy], PROD) == "Retain", f"{resource} {policy}"
        assert template.resolve_if(res[policy], DEV) in {"Retain", "Delete"}


# --------------------------------------------------------------------------- the SES sending identity


def test_the_sending_identity_is_taken_by_default_and_created_on_request() -> None:
    params = template.load()["Parameters"]
    assert params["CreateSenderIdentity"]["Default"] == "none"  # existing stacks keep their identity untouched
    assert params["CreateSenderIdentity"]["AllowedValues"] == ["none", "domain", "address"]
    identity = RESOURCES["SenderEmailIdentity"]
    assert identity["Type"] == "AWS::SES::EmailIdentity"
    assert identity["Condition"] == "CreateSesIdentity"
    props = identity["Properties"]
    assert props["EmailIdentity"] == {"Ref": "SenderIdentity"}
    domain = {"CreateSesDomain": True}
    assert template.resolve_if(props["DkimSigningAttributes"], domain) == {"NextSigningKeyLength": "RSA_2048_BIT"}
    assert template.resolve_if(props["DkimSigningAttributes"], {}) == {"Ref": "AWS::NoValue"}
    # the notify function may send as exactly that identity, created here or not
    (send,) = [st for st in _statements("NotifyFunction") if st["Sid"] == "SendEmail"]
    assert send["Resource"][0] == {
        "Fn::Sub": "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/${SenderIdentity}"
    }


def test_the_dkim_records_to_publish_are_outputs_of_a_created_domain() -> None:
    outputs = template.load()["Outputs"]
    for i in (1, 2, 3):
        out = outputs[f"SenderDkimRecord{i}"]
        assert out["Condition"] == "CreateSesDomain"
        name, value = f"SenderEmailIdentity.DkimDNSTokenName{i}", f"SenderEmailIdentity.DkimDNSTokenValue{i}"
        assert out["Value"] == {"Fn::Sub": f"${{{name}}} CNAME ${{{value}}}"}
