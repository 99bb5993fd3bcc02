"""Reconciliation reports API (operators): the latest run of a day, with its findings, and the runs of a period.
Each route authorizes the caller, then calls one service function. Reads only."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from account_credit.billing.schemas import Day
from account_credit.platform.http.problems import documented as problem
from account_credit.platform.http.resolver import operator, store
from account_credit.reconciliation import schemas
from account_credit.reconciliation import service as svc

router = Router()
TAG = ["reconciliation"]
DAY = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


@router.get(
    "/reconciliation/reports/<day>",
    tags=TAG,
    summary="The latest reconciliation run of a day (operator): its summary and every finding",
    responses={
        200: {"description": "The run and its findings"},
        404: problem("No reconciliation run of that day"),
        422: problem("`day` is not a YYYY-MM-DD date"),
    },
)
def get_report(
    day: Annotated[str, Path(pattern=DAY, description="The day reconciled (YYYY-MM-DD, UTC)")],
) -> schemas.Report:
    operator(router, "read reconciliation reports")
    return schemas.Report.model_validate(svc.report(store(), day))


@router.get(
    "/reconciliation/reports",
    tags=TAG,
    summary="The reconciliation runs of a period (operator): the latest run's summary of each day that has one",
)
def list_reports(
    since: Annotated[Day, Query(alias="from", description="First day (YYYY-MM-DD, UTC), inclusive")],  # type: ignore[valid-type]
    until: Annotated[Day, Query(alias="to", description="Last day (YYYY-MM-DD, UTC), inclusive")],  # type: ignore[valid-type]
    cursor: Annotated[str | None, Query(description="`next_cursor` of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=100, description="Days read per page")] = 31,
) -> schemas.RunPage:
    operator(router, "read reconciliation reports")
    return schemas.RunPage.model_validate(svc.reports(store(), since, until, cursor, limit))
