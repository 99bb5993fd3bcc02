"""CloudWatch metrics of the orders capability, as EMF log lines (Powertools ``single_metric``).

``OrdersPaid`` (dimension ``method``: balance, card, credit), ``OrdersDeclined`` and
``DebitLatencyMs`` (dimension ``method``: the time of the one transaction that debits the
balance). Each metric is its own EMF object, so concurrent requests in one process (the
local server) never share mutable metric state. ``POWERTOOLS_METRICS_DISABLED`` is honoured.
A metric can never fail an order: money has already moved when it is written.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.metrics.functions import is_metrics_disabled

logger = Logger(child=True)

ORDERS_PAID = "OrdersPaid"
ORDERS_DECLINED = "OrdersDeclined"
DEBIT_LATENCY = "DebitLatencyMs"


def emit(name: str, unit: MetricUnit, value: float, **dimensions: str) -> None:
    if is_metrics_disabled():
        return
    try:
        with single_metric(name=name, unit=unit, value=value) as metric:
            for key, dim in dimensions.items():
                metric.add_dimension(name=key, value=dim)
    except Exception:  # observability must not fail a payment that already happened
        logger.warning("could not emit metric %s", name, exc_info=True)


def order_paid(method: str) -> None:
    emit(ORDERS_PAID, MetricUnit.Count, 1, method=method)


def order_declined() -> None:
    emit(ORDERS_DECLINED, MetricUnit.Count, 1)


def debit_latency(method: str, millis: float) -> None:
    emit(DEBIT_LATENCY, MetricUnit.Milliseconds, round(millis, 3), method=method)
