"""Documents API: every billing document of an account, as JSON, as its PDF and as its UBL e-invoice; and the
monthly run on demand (operators). Each route authorizes the caller, then calls one service function."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from account_credit.billing import schemas, views
from account_credit.billing import service as billing
from account_credit.billing.files import PDF, XML, has_einvoice, read_file
from account_credit.kernel.errors import NotFound
from account_credit.platform.archive import archive
from account_credit.platform.http.problems import documented as problem
from account_credit.platform.http.resolver import authorized, operator, store

router = Router()
TAG = ["documents"]
DAY = "Inclusive issue date (YYYY-MM-DD)"
Number = "<series>-<year>-<n>"


def _today() -> datetime:
    return datetime.now(UTC)


def _file(kind: str, media: str) -> dict[int, Any]:
    return {
        200: {"description": f"The archived {kind}", "content": {media: {"schema": {"type": "string"}}}},
        404: problem("No such document, or its file is being rendered (retry in a moment)"),
    }


@router.get("/accounts/<account_id>/documents", tags=TAG, summary="Billing documents, newest first, cursor paging")
def list_documents(
    account_id: str,
    kind: Annotated[schemas.DocumentKind | None, Query(alias="type")] = None,  # type: ignore[valid-type]
    since: Annotated[schemas.Day | None, Query(alias="from", description=DAY)] = None,
    until: Annotated[schemas.Day | None, Query(alias="to", description=DAY)] = None,
    cursor: Annotated[str | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> schemas.DocumentPage:
    authorized(router, account_id)
    page = views.listing(
        store(), account_id, kind=kind, since=since, until=until, cursor=cursor, limit=limit, today=_today().date()
    )
    return schemas.DocumentPage.model_validate(page)


@router.get(
    "/accounts/<account_id>/documents/<number>",
    tags=TAG,
    summary="One document: lines, VAT breakdown, the movements it covers, payments",
)
def get_document(account_id: str, number: str) -> schemas.DocumentView:
    authorized(router, account_id)
    return schemas.DocumentView.model_validate(views.detail(store(), account_id, number, _today().date()))


@router.get(
    "/accounts/<account_id>/documents/<number>/pdf",
    tags=TAG,
    summary="The document as a PDF",
    responses=_file("PDF", PDF),
)
# No return annotation: Powertools then passes the bytes through instead of validating them as a JSON body.
def get_pdf(account_id: str, number: str):  # type: ignore[no-untyped-def]
    authorized(router, account_id)
    billing.issued_doc(store(), account_id, number)
    body, _ = read_file(archive(), account_id, number, "pdf")
    disposition = f'inline; filename="{number}.pdf"'
    return Response(200, PDF, body, headers={"Content-Disposition": disposition})


@router.get(
    "/accounts/<account_id>/documents/<number>/xml",
    tags=TAG,
    summary="The document as a UBL 2.1 e-invoice (Peppol BIS Billing 3.0)",
    responses=_file("UBL XML", XML),
)
def get_xml(account_id: str, number: str):  # type: ignore[no-untyped-def] # bytes, passed through as for the PDF
    authorized(router, account_id)
    if not has_einvoice(billing.issued_doc(store(), account_id, number)):
        raise NotFound(f"{number} is a top-up's payment request (proforma): it has a PDF, no e-invoice")
    body, _ = read_file(archive(), account_id, number, "xml")
    return Response(200, XML, body, headers={"Content-Disposition": f'attachment; filename="{number}.xml"'})


@router.post(
    "/accounts/<account_id>/billing-runs",
    tags=TAG,
    summary="Issue an account's documents for a month that is over, now (operator; safe to repeat)",
    responses={
        200: {"description": "What the run issued now, and what earlier runs had issued"},
        503: problem("Entries of the month are still being placed; nothing was issued, retry shortly"),
    },
)
def post_billing_run(account_id: str, body: schemas.BillingRunRequest) -> schemas.BillingRunResult:
    operator(router, "run billing", account_id)
    result = billing.run_month(store(), account_id, body.month, _today().date())
    return schemas.BillingRunResult.model_validate(result.as_dict())
