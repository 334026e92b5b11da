"""The request budget: the most requests each operation of ours may make, per backend.

``benchmarks/request_budget.json`` holds ``{backend: {operation: max_requests}}``. A check
fails naming every operation over its budget, or measured without one; operations under
budget are listed too, so a lowered count can be recorded with ``--write-budget``.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

BUDGET_FILE = Path(__file__).with_name("request_budget.json")

Counts = dict[str, dict[str, int]]


@dataclasses.dataclass
class Verdict:
    over: list[str] = dataclasses.field(default_factory=list)
    unbudgeted: list[str] = dataclasses.field(default_factory=list)
    under: list[str] = dataclasses.field(default_factory=list)
    at: list[str] = dataclasses.field(default_factory=list)
    unmeasured: list[str] = dataclasses.field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not (self.over or self.unbudgeted)

    def lines(self) -> list[str]:
        out = [f"OVER BUDGET  {line}" for line in self.over]
        out += [f"NO BUDGET    {line}" for line in self.unbudgeted]
        out += [f"under budget {line}" for line in self.under]
        out += [f"at budget    {line}" for line in self.at]
        out += [f"not measured {line}" for line in self.unmeasured]
        return out


def load(path: Path = BUDGET_FILE) -> Counts:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return {}


def write(counts: Counts, path: Path = BUDGET_FILE) -> None:
    path.write_text(json.dumps(counts, indent=2) + "\n")


def check(counts: Counts, budget: Counts) -> Verdict:
    verdict = Verdict()
    for backend, operations in counts.items():
        allowed = budget.get(backend, {})
        for operation, requests in operations.items():
            where = f"{backend} / {operation}: {requests}"
            limit = allowed.get(operation)
            if limit is None:
                verdict.unbudgeted.append(f"{where} (run --write-budget to record it)")
            elif requests > limit:
                verdict.over.append(f"{where} > {limit} in the budget")
            elif requests < limit:
                verdict.under.append(f"{where} < {limit} in the budget (--write-budget records it)")
            else:
                verdict.at.append(f"{where} = the budget")
    for backend, operations in budget.items():
        for operation in operations:
            if operation not in counts.get(backend, {}):
                verdict.unmeasured.append(f"{backend} / {operation} (in the budget only)")
    return verdict
