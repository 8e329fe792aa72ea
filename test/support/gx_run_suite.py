"""Loads a GX 1.x suite file into real Great Expectations and runs it on a CSV file (pandas).

Usage: python gx_run_suite.py <suite.json> <file.csv>. Prints {"success", "results": [{"type",
"column", "severity", "success"}]} as JSON: what a GX user gets from the suite `sluice export gx`
wrote.
"""

import json
import logging
import os
import sys

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
logging.disable(logging.WARNING)

import great_expectations as gx  # noqa: E402
import pandas as pd  # noqa: E402
from great_expectations.core.expectation_suite import ExpectationSuite  # noqa: E402


def main(suite_file, data_file):
    with open(suite_file, encoding="utf-8") as f:
        suite_json = json.load(f)
    context = gx.get_context(mode="ephemeral")
    suite = context.suites.add(ExpectationSuite(**suite_json))
    batch_definition = (
        context.data_sources.add_pandas("files")
        .add_dataframe_asset("file")
        .add_batch_definition_whole_dataframe("whole")
    )
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name="run", data=batch_definition, suite=suite)
    )
    frame = pd.read_csv(data_file, keep_default_na=False, na_values=[""])
    outcome = definition.run(batch_parameters={"dataframe": frame}).to_json_dict()
    results = [
        {
            "type": r["expectation_config"]["type"],
            "column": r["expectation_config"]["kwargs"].get("column"),
            "severity": r["expectation_config"].get("severity"),
            "success": r["success"],
        }
        for r in outcome["results"]
    ]
    json.dump({"success": outcome["success"], "results": results}, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
