"""The cold-start benchmark covers every function: each function of template.yaml has its own first event in
``bench/cold.py`` EVENTS (a new function is not measured with another one's generic stream or schedule event),
and EVENTS names no function the template no longer has."""

from __future__ import annotations

from bench import cold
from tools import template


def test_every_function_of_the_template_has_its_own_cold_start_event() -> None:
    missing = sorted(set(template.functions()) - set(cold.EVENTS))
    assert not missing, f"add a first-invocation event to bench/cold.py EVENTS for: {missing}"


def test_the_cold_start_events_name_only_functions_of_the_template() -> None:
    stale = sorted(set(cold.EVENTS) - set(template.functions()))
    assert not stale, f"bench/cold.py EVENTS names functions template.yaml does not have: {stale}"


def test_each_function_resolves_to_its_event() -> None:
    for fn in cold.functions():
        assert fn.event is cold.EVENTS[fn.name], fn.name
