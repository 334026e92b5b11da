"""The request-budget check that .ci/run applies: over budget or unbudgeted fails it."""

from __future__ import annotations

from benchmarks import budget


def test_over_budget_and_unbudgeted_fail_and_lower_counts_pass():
    recorded = {"s3": {"publish first": 3, "put new": 2}}
    assert budget.check({"s3": {"publish first": 3, "put new": 1}}, recorded).passed
    over = budget.check({"s3": {"publish first": 4, "put new": 2}}, recorded)
    assert not over.passed and over.over == ["s3 / publish first: 4 > 3 in the budget"]
    new = budget.check({"s3": {"publish first": 3, "put new": 2, "purge": 1}}, recorded)
    assert not new.passed and new.unbudgeted[0].startswith("s3 / purge: 1")


def test_the_recorded_budget_covers_both_backends():
    recorded = budget.load()
    assert set(recorded) == {"s3", "s3-dynamodb"}
    assert recorded["s3"]["publish first"] <= 5 and recorded["s3"]["promote to newest"] <= 5
