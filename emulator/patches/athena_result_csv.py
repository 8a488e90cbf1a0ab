"""Athena: the query result file at OutputLocation written as Athena writes it (RFC 4180 CSV).

moto 5.x does not run SQL: a test queues the rows a query answers (POST
/moto-api/static/athena/query-results) and moto returns them from GetQueryResults and writes them to
<OutputLocation>/<QueryExecutionId>.csv. moto writes each value between double quotes as it is, so a
value with a double quote in it (an object key may hold one) makes a file no CSV reader can read.

AWS rules relied on (Athena User Guide, "Work with query results and recent queries" / "Query
output files"): a SELECT's result is a CSV file named <QueryExecutionId>.csv at the query's output
location; its first line holds the column names; every value is enclosed in double quotes, a double
quote inside a value is written twice; a NULL is an empty field without quotes. (The first row a
test queues is the header, as the first row of GetQueryResults' first page is for a SELECT.)

Not covered: the .csv.metadata file, result reuse, encrypted results, UNLOAD/CTAS output.
"""

from __future__ import annotations

from typing import Any


def _field(cell: dict[str, Any]) -> str:
    if "VarCharValue" not in cell:
        return ""
    return '"' + str(cell["VarCharValue"]).replace('"', '""') + '"'


def apply() -> None:
    from moto.athena import models
    from moto.s3.exceptions import MissingBucket
    from moto.s3.models import s3_backends
    from moto.s3.utils import bucket_and_name_from_url

    def _store_query_result_in_s3(self: Any, exec_id: str) -> None:
        execution = self.executions.get(exec_id)
        location = (execution.config or {}).get("OutputLocation") if execution else None
        if not location:
            return  # no output location: GetQueryResults alone answers, as in moto
        bucket, key = bucket_and_name_from_url(location)
        body = "".join(",".join(_field(c) for c in row["Data"]) + "\n" for row in self.query_results[exec_id].rows)
        try:
            s3_backends[self.account_id][self.partition].put_object(bucket_name=bucket, key_name=key, value=body.encode("utf-8"))
        except MissingBucket:
            pass  # as moto: no file (AWS would fail the query; sseguard then reports the missing result)

    models.AthenaBackend._store_query_result_in_s3 = _store_query_result_in_s3
