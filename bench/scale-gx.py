"""The scale benchmark's 12 checks as a Great Expectations 1.x suite on pandas: the CSV read by
pandas, validated as one batch of an ephemeral context. Prints one JSON line."""
import json
import resource
import sys
import time

started = time.perf_counter()
import great_expectations as gx  # noqa: E402
import great_expectations.expectations as gxe  # noqa: E402
import pandas as pd  # noqa: E402

imported = time.perf_counter()
path = sys.argv[1]
df = pd.read_csv(path, dtype={"order_id": str, "customer_id": str, "status": str, "email": str, "created_at": str})
# Sluice types quantity by the contract's schema ('many' is not an integer); pandas reads the column
# as text, which GX cannot compare with numbers: the cells that are not numbers become nulls.
df["quantity"] = pd.to_numeric(df["quantity"], errors="coerce")
read = time.perf_counter()

context = gx.get_context(mode="ephemeral")
batch = (
    context.data_sources.add_pandas("bench")
    .add_dataframe_asset("orders")
    .add_batch_definition_whole_dataframe("all")
    .get_batch(batch_parameters={"dataframe": df})
)
suite = context.suites.add(gx.ExpectationSuite(name="orders"))
for expectation in [
    gxe.ExpectColumnValuesToNotBeNull(column="order_id"),
    gxe.ExpectColumnValuesToNotBeNull(column="customer_id"),
    gxe.ExpectColumnValuesToNotBeNull(column="amount"),
    gxe.ExpectColumnValuesToBeUnique(column="order_id"),
    gxe.ExpectColumnValuesToBeBetween(column="amount", min_value=0, max_value=100000),
    gxe.ExpectColumnValuesToBeBetween(column="quantity", min_value=1, max_value=100, mostly=0.95),
    gxe.ExpectColumnValuesToBeInSet(column="status", value_set=["pending", "paid", "shipped", "cancelled"]),
    gxe.ExpectColumnValuesToMatchRegex(column="email", regex=r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$"),
    gxe.ExpectColumnValueLengthsToBeBetween(column="customer_id", min_value=2, max_value=6),
    gxe.ExpectColumnMeanToBeBetween(column="amount", min_value=2000, max_value=3000),
    gxe.ExpectTableRowCountToBeBetween(min_value=1, max_value=100000000),
    gxe.ExpectColumnMaxToBeBetween(column="discount", min_value=0, max_value=0.5),
]:
    suite.add_expectation(expectation)
result = batch.validate(suite)
done = time.perf_counter()
observed = {}
for r in result.results:
    config = r.expectation_config
    name = f"{config.type} {config.kwargs.get('column', '')}".strip()
    observed[name] = r.result.get("unexpected_count", r.result.get("observed_value"))
print(json.dumps({
    "importSeconds": imported - started,
    "readSeconds": read - imported,
    "checkSeconds": done - read,
    "maxRssBytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    "observed": observed,
}, default=str))
