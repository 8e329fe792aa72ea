"""The scale benchmark's 12 checks hand-written in Polars: each expectation's unexpected count
(or observed value) as one expression, all in one select over the CSV read by Polars.
Threads: POLARS_MAX_THREADS (set by bench/scale.ts before start). Prints one JSON line."""
import json
import resource
import sys
import time

started = time.perf_counter()
import polars as pl  # noqa: E402

imported = time.perf_counter()
path = sys.argv[1]
text = pl.Utf8
df = pl.read_csv(
    path,
    schema_overrides={"order_id": text, "customer_id": text, "quantity": text, "status": text, "email": text, "created_at": text},
)
read = time.perf_counter()
quantity = pl.col("quantity").cast(pl.Int64, strict=False)
regex = r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$"
statuses = ["pending", "paid", "shipped", "cancelled"]
out = df.select(
    pl.col("order_id").is_null().sum().alias("not_null order_id"),
    pl.col("customer_id").is_null().sum().alias("not_null customer_id"),
    pl.col("amount").is_null().sum().alias("not_null amount"),
    (pl.col("order_id").is_duplicated() & pl.col("order_id").is_not_null()).sum().alias("unique order_id"),
    ((pl.col("amount") < 0) | (pl.col("amount") > 100000)).sum().alias("between amount"),
    ((quantity < 1) | (quantity > 100)).sum().alias("between quantity"),
    (~pl.col("status").is_in(statuses)).sum().alias("in_set status"),
    (~pl.col("email").str.contains(regex)).sum().alias("match_regex email"),
    ((pl.col("customer_id").str.len_chars() < 2) | (pl.col("customer_id").str.len_chars() > 6)).sum().alias("value_lengths customer_id"),
    pl.col("amount").mean().alias("mean amount"),
    pl.len().alias("row_count"),
    pl.col("discount").max().alias("max discount"),
).row(0, named=True)
done = time.perf_counter()
print(json.dumps({
    "importSeconds": imported - started,
    "readSeconds": read - imported,
    "checkSeconds": done - read,
    "maxRssBytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    "observed": out,
}))
