"""Committing a unit of work: plan on the known state, ask the caller for its answer, write once, retry.

The store only offers the primitives of one attempt (``UnitOfWork.known_states / write / fresh_look``); this loop,
which a service calls, runs them, so the store never calls back into a service. ``respond(posting)`` is the
caller's: it turns the planned posting into the answer stored with the write (and completes whatever records
depend on the posting) before anything is written.

One attempt: plan the movements on the last known account states (a warm container's cache: no read), build the
answer, send ONE write conditioned on what the plan and the answer rely on (``platform/store/reliance.py``: the
floor, the credit limit, the low-balance side, the answer's balance range), never on a version, so writes to one
account commute. When what it relied on no longer holds the store hands back the current state (``Stale``) and
the next attempt re-plans at once; transient failures (throttling, timeouts, transaction conflicts) back off with
jitter. A decline (insufficient funds) is only given on states read consistently, and never to a replay.
"""

from __future__ import annotations

from account_credit.kernel.errors import ConcurrentUpdate, InsufficientFunds, ServiceUnavailable
from account_credit.platform.config import settings
from account_credit.platform.retry import backoff
from account_credit.platform.store.base import (
    Answer,
    CommitResult,
    IdempotencyClaim,
    Responder,
    Stale,
    Transient,
    UnitOfWork,
    canonical,
)


def commit(uow: UnitOfWork, claim: IdempotencyClaim | None, respond: Responder) -> CommitResult:
    """Write everything ``uow`` collected, atomically, once per ``claim``; the stored answer on a replay."""
    account_ids = sorted({m.account_id for m in uow.movements})
    max_attempts = settings().max_write_attempts
    states, confirmed = uow.known_states(account_ids)
    throttled = False
    # Two budgets: transient failures (throttling, timeouts, transaction conflicts) get ``max_attempts`` with
    # jittered backoff; a stale state means another writer committed (progress), so it gets a larger budget.
    transient = refreshes = 0
    while transient < max_attempts and refreshes < 8 * max_attempts:
        missing = [a for a, state in states.items() if state is None]
        if missing:
            states.update(uow.read_states(missing))
            confirmed = True
        accounts = {a: state[0] for a, state in states.items() if state is not None}
        try:
            posting = uow.plan(accounts, claim)
        except InsufficientFunds:
            # Decide a decline on confirmed data only, and never decline a replay.
            replay = uow.fresh_look(claim, account_ids, states)
            if replay is not None:
                return replay
            if confirmed:
                raise
            confirmed = True
            continue
        out = respond(posting)
        answer = out if isinstance(out, Answer) else Answer(out)
        uow.late_records, uow.late_updates = answer.records, answer.updates
        uow.late_ranges, uow.late_settings = answer.balance_range, answer.settings
        try:
            return uow.write(claim, posting, states, canonical(answer.body))
        except Stale as stale:
            # What the plan relied on no longer holds; the failed condition returned the current item: plan
            # again on it at once (no sleep: nothing is gained by waiting, the state is already fresh).
            states.update(stale.states)
            confirmed, throttled = True, False
            refreshes += 1
        except Transient as failure:
            confirmed, throttled = False, failure.throttled
            backoff(transient, base=0.002 if failure.conflict else 0.01)
            transient += 1
    if throttled:
        raise ServiceUnavailable("the database is throttling; nothing was written, retry with the same key")
    raise ConcurrentUpdate("too much contention on this account; nothing was written, retry with the same key")
