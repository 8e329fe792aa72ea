"""Runs Great Expectations (pandas, ephemeral context) on a list of cases and prints the results.

Reads a JSON list on stdin: [{"id", "columns": {name: "integer"|"number"|"string"|"boolean"},
"csv": the file's text, "type", "kwargs"}]; prints one JSON list, in the same order, of
{"id", "success", "result", "exception"}. One process for every case: importing GX takes seconds.
"""

import io
import json
import logging
import math
import os
import sys

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
logging.disable(logging.WARNING)

import great_expectations as gx  # noqa: E402
import pandas as pd  # noqa: E402
from great_expectations.expectations.expectation_configuration import (  # noqa: E402
    ExpectationConfiguration,
)

def frame(columns, csv):
    """The case's CSV as pandas reads it, with only empty cells null, as the contract reads it."""
    # Text columns stay Python strings (codes such as 02134 keep their zeros); numbers are inferred.
    dtype = {name: object for name, kind in columns.items() if kind == "string"}
    return pd.read_csv(io.StringIO(csv), dtype=dtype, keep_default_na=False, na_values=[""])


def plain(value):
    """JSON-able values: numpy scalars as Python numbers, NaN as None."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def main():
    cases = json.load(sys.stdin)
    context = gx.get_context(mode="ephemeral")
    asset = context.data_sources.add_pandas("cases").add_dataframe_asset("case")
    batch_definition = asset.add_batch_definition_whole_dataframe("whole")
    results = []
    for case in cases:
        try:
            batch = batch_definition.get_batch(
                batch_parameters={"dataframe": frame(case["columns"], case["csv"])}
            )
            kwargs = dict(case["kwargs"])
            result_format = kwargs.pop("result_format", "BASIC")
            expectation = ExpectationConfiguration(type=case["type"], kwargs=kwargs).to_domain_obj()
            outcome = batch.validate(expectation, result_format=result_format).to_json_dict()
            info = outcome.get("exception_info") or {}
            raised = info.get("raised_exception", False) or any(
                v.get("raised_exception") for v in info.values() if isinstance(v, dict)
            )
            results.append(
                {
                    "id": case["id"],
                    "success": plain(outcome["success"]),
                    "result": plain(outcome.get("result") or {}),
                    "exception": bool(raised),
                }
            )
        except Exception as error:  # a case GX refuses to build or run
            results.append({"id": case["id"], "success": None, "result": {}, "exception": True,
                            "message": f"{type(error).__name__}: {error}"})
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
