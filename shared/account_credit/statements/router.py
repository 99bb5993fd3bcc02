"""Statements API: the accounting summary of a period, and export jobs of the summary or the transaction list as
CSV or JSON (queued, run by the statements function from the table stream, served once done). Each route
authorizes the caller, then calls one service function."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from account_credit.billing.schemas import Day
from account_credit.platform.archive import archive
from account_credit.platform.http.problems import documented as problem
from account_credit.platform.http.resolver import authorized, json_response, store
from account_credit.statements import schemas
from account_credit.statements import service as svc

router = Router()
TAG = ["statements"]
FROM = "First day of the period (YYYY-MM-DD, UTC), inclusive"
TO = "Last day of the period (YYYY-MM-DD, UTC), inclusive"


@router.get(
    "/accounts/<account_id>/summary",
    tags=TAG,
    summary="Accounting summary of a period: opening balance, deposits, draws, refunds, adjustments, closing",
)
def get_summary(
    account_id: str,
    since: Annotated[Day, Query(alias="from", description=FROM)],  # type: ignore[valid-type]
    until: Annotated[Day, Query(alias="to", description=TO)],  # type: ignore[valid-type]
) -> schemas.Summary:
    authorized(router, account_id)
    result = svc.summary(store(), account_id, svc.period_of(since, until))
    return schemas.Summary.model_validate(result.as_dict())


@router.post(
    "/accounts/<account_id>/exports",
    tags=TAG,
    summary="Export the summary or the transactions of a period as CSV or JSON (a job: poll its status)",
    responses={202: {"description": "Queued; poll the status until it is done, then download the file"}},
)
def post_export(account_id: str, body: schemas.ExportRequest) -> Response[schemas.ExportStatus]:
    caller = authorized(router, account_id)
    result = svc.request_export(
        store(),
        account_id,
        since=body.since,
        until=body.until,
        fmt=body.format,
        kind=body.kind,
        actor=caller.actor,
        conventions=body.conventions,
    )
    return json_response(202, schemas.ExportStatus.model_validate(result).model_dump(by_alias=True))


@router.get(
    "/accounts/<account_id>/exports/<export_id>",
    tags=TAG,
    summary="An export's state and progress (entries done of total), and its download link once done",
)
def get_export(account_id: str, export_id: str) -> schemas.ExportStatus:
    authorized(router, account_id)
    return schemas.ExportStatus.model_validate(svc.get_export(store(), account_id, export_id))


_FILE: dict[int, Any] = {
    200: {
        "description": "The exported file",
        "content": {
            "text/csv; charset=utf-8": {"schema": {"type": "string"}},
            "application/json": {"schema": {"type": "string"}},
        },
    },
    404: problem("No such export, or it is not done yet"),
}


@router.get(
    "/accounts/<account_id>/exports/<export_id>/file",
    tags=TAG,
    summary="The file of a finished export",
    responses=_FILE,
)
# No return annotation: Powertools then passes the bytes through instead of validating them as a JSON body.
def get_export_file(account_id: str, export_id: str):  # type: ignore[no-untyped-def]
    authorized(router, account_id)
    body, media, name = svc.export_file(store(), archive(), account_id, export_id)
    return Response(200, media, body, headers={"Content-Disposition": f'attachment; filename="{name}"'})
