"""The whole HTTP API fuzzed from its own OpenAPI schema (schemathesis), on the ``make run`` defaults with an
admin key: no answer is a 5xx and every answer matches the schema (status code, content type, body,
headers), over at least :data:`MIN_REQUESTS` generated requests.

Left out of the generated checks: ``positive_data_acceptance``, because some schema-valid inputs are refused
on purpose with a 422 naming the field (a date such as 7731-13-48, control characters in a message). Left out
of the operations: ``POST /v1/admin/train``, which would start real training jobs that outlive the test
(tests/service/test_admin.py covers it). Rate limits are raised for this app: they are tested in
test_access.py, and here a 429 would hide what the request did.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import positive_data_acceptance
from servicekit import Service, running_service

from authkit import AUTH

EXAMPLES_PER_OPERATION = 120
MIN_REQUESTS = 2000


@pytest.fixture(scope="module")
def svc(seeded_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    limits = {"rate_limit_per_key": 0, "rate_limit_per_client": 0, "rate_limit_admin": 1e6}
    with running_service(seeded_home, tmp_path_factory, **limits) as service:
        yield service


def test_no_5xx_and_no_schema_violation_over_the_whole_api(svc: Service) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", svc.app).exclude(path="/v1/admin/train", method="POST")
    statuses: Counter[tuple[str, int]] = Counter()
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def run(case: schemathesis.Case) -> None:
            response = case.call(headers=AUTH)
            statuses[(f"{case.method} {case.path}", response.status_code)] += 1
            try:
                case.validate_response(response, excluded_checks=[positive_data_acceptance], headers=AUTH)
            except (Exception, BaseExceptionGroup) as exc:  # collect: one report for the whole API
                failures.append(f"{case.method} {case.path} -> {response.status_code}: {str(exc)[:400]}")

        run()
    total = sum(statuses.values())
    server_errors = {k: n for k, n in statuses.items() if k[1] >= 500}
    assert server_errors == {}, server_errors
    assert failures == [], "\n\n".join(failures[:10])
    assert total >= MIN_REQUESTS, f"only {total} requests were generated"
    assert {path for path, _ in statuses} >= {"POST /v1/chat", "POST /v1/events", "GET /v1/analytics"}
