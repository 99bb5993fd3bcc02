"""tools/users.py (``make operator``) against moto's Cognito and CloudFormation: people get exactly the role claims
kernel/auth.py reads, in a pool shaped like the template's UserPool, found through the stack of a samconfig.toml
environment; tools/deploy.py reads those environments and refuses placeholders."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tools import deploy, template, users

REGION = deploy.environment("dev").region or "eu-central-1"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield


def _pool(cognito: Any) -> str:
    """A pool with the template UserPool's schema (custom:role, custom:account_id, custom:partner_id)."""
    props = template.load()["Resources"]["UserPool"]["Properties"]
    created = cognito.create_user_pool(
        PoolName="account-credit-dev-users",
        Schema=props["Schema"],
        UsernameAttributes=props["UsernameAttributes"],
        AdminCreateUserConfig=props["AdminCreateUserConfig"],
    )
    return str(created["UserPool"]["Id"])


def _claims(cognito: Any, pool_id: str, email: str) -> dict[str, str]:
    got = cognito.admin_get_user(UserPoolId=pool_id, Username=email)
    return {a["Name"]: a["Value"] for a in got["UserAttributes"] if a["Name"] != "sub"}


def test_the_first_operator_gets_the_operator_role_and_a_verified_email(aws: None) -> None:
    cognito = boto3.client("cognito-idp", region_name=REGION)
    pool = _pool(cognito)
    assert users.create(cognito, pool, users.Person("ops@example.com", "operator")) == "created"
    assert _claims(cognito, pool, "ops@example.com") == {
        "email": "ops@example.com",
        "email_verified": "true",
        "custom:role": "operator",
    }
    user = cognito.admin_get_user(UserPoolId=pool, Username="ops@example.com")
    assert user["UserStatus"] == "FORCE_CHANGE_PASSWORD"  # signs in with the emailed temporary password once


def test_partners_and_customers_carry_their_ids(aws: None) -> None:
    cognito = boto3.client("cognito-idp", region_name=REGION)
    pool = _pool(cognito)
    users.create(cognito, pool, users.Person("sales@partner.example", "partner", partner_id="p1"))
    users.create(cognito, pool, users.Person("buyer@shop.example", "customer", account_id="acc_1"))
    partner = _claims(cognito, pool, "sales@partner.example")
    assert (partner["custom:role"], partner["custom:partner_id"]) == ("partner", "p1")
    assert "custom:account_id" not in partner
    customer = _claims(cognito, pool, "buyer@shop.example")
    assert (customer["custom:role"], customer["custom:account_id"]) == ("customer", "acc_1")


def test_running_it_again_is_a_no_op_and_another_role_is_refused(aws: None) -> None:
    cognito = boto3.client("cognito-idp", region_name=REGION)
    pool = _pool(cognito)
    users.create(cognito, pool, users.Person("ops@example.com", "operator"))
    assert users.create(cognito, pool, users.Person("ops@example.com", "operator")) == "exists"
    with pytest.raises(users.UsageError, match="other claims"):
        users.create(cognito, pool, users.Person("ops@example.com", "partner", partner_id="p1"))
    assert _claims(cognito, pool, "ops@example.com")["custom:role"] == "operator"


@pytest.mark.parametrize(
    ("person", "why"),
    [
        (users.Person("p@x.example", "partner"), "partner id"),
        (users.Person("c@x.example", "customer"), "account id"),
        (users.Person("o@x.example", "operator", partner_id="p1"), "only a partner"),
        (users.Person("o@x.example", "operator", account_id="acc_1"), "only a customer"),
        (users.Person("o@x.example", "admin"), "role must be"),
        (users.Person("not-an-email", "operator"), "not an email"),
    ],
)
def test_wrong_claims_are_refused_before_anything_is_created(aws: None, person: users.Person, why: str) -> None:
    cognito = boto3.client("cognito-idp", region_name=REGION)
    pool = _pool(cognito)
    with pytest.raises(users.UsageError, match=why):
        users.create(cognito, pool, person)
    assert cognito.list_users(UserPoolId=pool)["Users"] == []


def test_make_operator_finds_the_pool_through_the_dev_stack(aws: None, capsys: pytest.CaptureFixture[str]) -> None:
    env = deploy.environment("dev")
    cognito = boto3.client("cognito-idp", region_name=REGION)
    pool = _pool(cognito)
    boto3.client("cloudformation", region_name=REGION).create_stack(
        StackName=env.stack_name,
        TemplateBody=json.dumps(
            {
                "Resources": {"Nothing": {"Type": "AWS::SNS::Topic"}},
                "Outputs": {"UserPoolId": {"Value": pool}},
            }
        ),
    )
    assert users.main(["create", "--env", "dev", "--email", "ops@example.com", "--no-invitation"]) == 0
    assert "created" in capsys.readouterr().out
    assert _claims(cognito, pool, "ops@example.com")["custom:role"] == "operator"
    assert users.main(["create", "--env", "dev", "--email", "p@x.example", "--role", "partner"]) == 2
    assert "partner id" in capsys.readouterr().err


# --------------------------------------------------------------------------- samconfig.toml environments


def test_dev_and_prod_carry_region_stack_sender_alarms_and_seller() -> None:
    params = template.load()["Parameters"]
    for name in ("dev", "prod"):
        env = deploy.environment(name)
        assert env.stack_name == f"account-credit-{name}"
        assert env.region
        assert env.parameters["Environment"] == name
        for key in ("SenderEmail", "SenderIdentity", "CreateSenderIdentity", "AlarmEmail", "SellerName", "SellerIban"):
            assert key in env.parameters, f"{name}: {key}"
        assert set(env.parameters) <= set(params), "every override is a template parameter"
        for key, value in env.parameters.items():
            allowed = params[key].get("AllowedValues")
            if allowed and deploy.PLACEHOLDER not in value:
                assert value in [str(a) for a in allowed], f"{name}: {key}={value}"


def test_the_shipped_environments_refuse_to_deploy_until_filled_in(capsys: pytest.CaptureFixture[str]) -> None:
    assert "SellerName" in deploy.environment("prod").placeholders()
    assert deploy.main(["check", "prod"]) == 1
    assert "SellerName" in capsys.readouterr().err


def test_a_filled_in_environment_passes_the_check(tmp_path: Path) -> None:
    config = tmp_path / "samconfig.toml"
    config.write_text(
        'version = 0.1\n[live.deploy.parameters]\nstack_name = "ac-live"\nregion = "eu-west-1"\n'
        'parameter_overrides = "Environment=prod SellerName=\\"Acme\\""\n'
    )
    env = deploy.environment("live", config)
    assert (env.stack_name, env.region, env.parameters) == (
        "ac-live",
        "eu-west-1",
        {"Environment": "prod", "SellerName": "Acme"},
    )
    assert env.placeholders() == []
    with pytest.raises(SystemExit, match="no environment 'qa'"):
        deploy.environment("qa", config)


def test_an_empty_portal_origin_is_a_reminder_not_a_refusal(tmp_path: Path) -> None:
    """A first deploy cannot know its API's URL yet: the check passes and says what the second deploy needs."""
    config = tmp_path / "samconfig.toml"
    first = 'parameter_overrides = "Environment=dev PortalOrigin=\\"\\""\n'
    second = (
        'parameter_overrides = "Environment=dev PortalOrigin=\\"https://abc.execute-api.eu-west-1.amazonaws.com\\""\n'
    )
    head = 'version = 0.1\n[dev.deploy.parameters]\nstack_name = "ac-dev"\nregion = "eu-west-1"\n'
    config.write_text(head + first)
    [reminder] = deploy.environment("dev", config).reminders()
    assert "PortalOrigin is empty" in reminder and "Stripe card top-ups" in reminder
    config.write_text(head + second)
    assert deploy.environment("dev", config).reminders() == []
