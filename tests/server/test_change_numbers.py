"""Change numbers (what devices pull by) are taken once per transaction and always grow."""

from __future__ import annotations

from sqlmodel import Session

from server.db import make_engine
from server.services.cases import reserve_change_seq
from tests.conftest import Server


def test_one_number_per_transaction_and_a_new_one_after_each_commit(server: Server) -> None:
    engine = make_engine(server.url)
    numbers: list[int] = []
    with Session(engine) as session:
        for _ in range(50):  # many commits: an old transaction's identity must never match
            first = reserve_change_seq(session)
            assert reserve_change_seq(session) == first  # same transaction, same number
            numbers.append(first)
            session.commit()
    assert numbers == sorted(set(numbers))  # each commit got a new, larger number
    engine.dispose()
