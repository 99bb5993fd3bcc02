"""Catalog API: certificate products and prices. Each route calls exactly one service function."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path

from account_credit.catalog import service as svc
from account_credit.orders.schemas import PRODUCT_CODE_PATTERN, ProductList, ProductPut, ProductView
from account_credit.platform.http.resolver import json_response, principal, store

router = Router()
TAG = ["catalog"]


@router.get("/catalog/products", tags=TAG, summary="Certificate products and their prices (anyone signed in)")
def list_products() -> ProductList:
    items = svc.list_products(store(), principal(router))
    return ProductList(items=[ProductView(**p.as_dict()) for p in items])


@router.put(
    "/catalog/products/<code>",
    tags=TAG,
    summary="Create or replace a product (operator). Orders already paid keep their prices.",
    responses={200: {"description": "Replaced"}, 201: {"description": "Created"}},
)
def put_product(code: Annotated[str, Path(pattern=PRODUCT_CODE_PATTERN)], body: ProductPut) -> Response[ProductView]:
    product, created = svc.put_product(store(), principal(router), code, body)
    return json_response(201 if created else 200, product.as_dict())
