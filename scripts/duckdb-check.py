#!/usr/bin/env python3
"""DuckDB reads kartka's tap store as is: Hive partitions (month=YYYY-MM),
timestamps with time zone. Prints one JSON object; used by the tests and
useful on its own:  python3 scripts/duckdb-check.py HOME/taps"""
import json
import sys

import duckdb

root = sys.argv[1]
con = duckdb.connect()
src = f"read_parquet('{root}/*/*.parquet', hive_partitioning = true)"
rows = con.execute(f"select count(*) from {src}").fetchone()[0]
keys = con.execute(f"select count(*) from (select distinct validator_id, seq from {src})").fetchone()[0]
typ = con.execute(f"select typeof(tapped_at) from {src} limit 1").fetchone()[0]
months = [r[0] for r in con.execute(f"select distinct month from {src} order by 1").fetchall()]
print(json.dumps({"rows": rows, "distinct_keys": keys, "tapped_at_type": typ,
                  "months": [str(m) for m in months], "duckdb": duckdb.__version__}))
