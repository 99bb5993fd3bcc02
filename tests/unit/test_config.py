"""Environment settings: defaults, parsing, and a malformed variable named in the error."""

from __future__ import annotations

import pytest

from account_credit.platform.config import ConfigurationError, Settings, from_environment


def test_defaults_when_nothing_is_set() -> None:
    assert from_environment({}) == Settings()


def test_values_are_read_and_trimmed() -> None:
    got = from_environment(
        {
            "TABLE_NAME": " t ",
            "DYNAMODB_ENDPOINT": "http://localhost:8000",
            "AWS_REGION": "eu-central-1",
            "DEFAULT_CREDIT_LIMIT": " 0 ",
            "ENVIRONMENT": "prod",
            "MAX_WRITE_ATTEMPTS": "1",
            "UNRELATED": "ignored",
        }
    )
    assert got == Settings("t", "http://localhost:8000", "eu-central-1", 0, "prod", 1)
    assert from_environment({"DYNAMODB_ENDPOINT": ""}).dynamodb_endpoint is None


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DEFAULT_CREDIT_LIMIT", "-1"),
        ("DEFAULT_CREDIT_LIMIT", "2.5"),
        ("DEFAULT_CREDIT_LIMIT", "lots"),
        ("MAX_WRITE_ATTEMPTS", "0"),
        ("MAX_WRITE_ATTEMPTS", ""),
        ("TABLE_NAME", "  "),
        ("AWS_REGION", ""),
    ],
)
def test_a_malformed_variable_is_named(name: str, value: str) -> None:
    with pytest.raises(ConfigurationError, match=name):
        from_environment({name: value})
