#!/usr/bin/env python3
"""The suspicious-tap rules of `kartka taps flag` on Spark SQL, over the same
Hive-partitioned tap store and the same registry: the flags past one
machine (docs/scale.md).

    flag-spark.py HOME MONTH [--compare FLAGS.parquet] [--json]

The port of scripts/flag-duckdb.py (the executable specification), query
for query, with its four changes: the dockings join the validator's window
as marker rows (`last(dock_ms, true)` over (validator, seq)) instead of
DuckDB's ASOF JOIN; times convert through `to_utc_timestamp(..,
'Europe/Kyiv')` instead of ICU; SEMI and ANTI JOIN are LEFT SEMI and LEFT
ANTI; `arg_min` is `min_by`. Runs on pyspark's `local[*]` (or
`SPARK_MASTER`). With --compare, checks that Spark flagged exactly the same
(validator, seq, rule) rows as kartka and exits 1 when they differ.
"""
import json, os, sys, time

from flag_common import CONFIG_RULES, DAY, RULES, Month, hold_split


def main(argv):
    args = [a for a in argv[1:] if not a.startswith("--")]
    if len(args) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    home, month = args[0], args[1]
    compare = argv[argv.index("--compare") + 1] if "--compare" in argv else None
    started = time.perf_counter()
    m = Month(home, month)
    if not m.month_files:
        print(f"error: no tap files for {month} in {home}; store the month first", file=sys.stderr)
        return 1

    from pyspark.sql import SparkSession
    from pyspark.sql.types import IntegerType, LongType, StringType, StructField, StructType
    spark = (SparkSession.builder.master(os.environ.get("SPARK_MASTER", "local[*]"))
             .appName("kartka-flags").config("spark.sql.session.timeZone", "UTC")
             .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
             .config("spark.driver.memory", os.environ.get("SPARK_DRIVER_MEMORY", "4g"))
             # A cluster sets its own; on one machine the default 200
             # shuffle partitions are mostly overhead.
             .config("spark.sql.shuffle.partitions", os.environ.get("SPARK_SHUFFLE_PARTITIONS", "8"))
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    timings = {}

    def view(name, fields, rows):
        schema = StructType([StructField(n, t) for n, t in fields])
        spark.createDataFrame(rows, schema).createOrReplaceTempView(name)

    S, L, I = StringType(), LongType(), IntegerType()
    view("cards_raw", [("card_number", L), ("category", S), ("valid_from", S), ("valid_to", S),
                       ("death_date", S), ("uid", S), ("blocked", S), ("birth_date", S)], m.cards)
    view("limits", [("category", S), ("per_month", L)], m.limits)
    view("day_limits", [("category", S), ("day_limit", L)], m.day_limits)
    view("known", [("from_r", I), ("to_r", I), ("ms", L)], m.known)
    view("served", [("carrier_id", I), ("route", I)], m.served)
    view("hours", [("route", I), ("open_ms", L), ("close_ms", L)], m.hours)
    view("batches", [("batch", L), ("received_ms", L)], m.batches)
    view("docks", [("validator_id", I), ("seq", L), ("dock_ms", L)], m.docks)
    star = dict(m.limits).get("*")

    def q(sql, name=None, what=None):
        t0 = time.perf_counter()
        df = spark.sql(sql)
        if name:
            df = df.cache()
            df.count()
            df.createOrReplaceTempView(name)
        if what:
            timings[what] = round(time.perf_counter() - t0, 3)
        return df

    kyiv_midnight = lambda d: f"unix_millis(to_utc_timestamp(CAST({d} AS TIMESTAMP), 'Europe/Kyiv'))"
    q(f"""SELECT r.card_number, r.uid AS reg_uid,
            {kyiv_midnight("CAST(r.valid_from AS DATE)")} AS valid_from_ms,
            {kyiv_midnight("date_add(CAST(r.valid_to AS DATE), 1)")} AS valid_until_ms,
            unix_millis(to_timestamp(r.blocked)) AS blocked_ms,
            CASE WHEN r.death_date IS NOT NULL THEN {kyiv_midnight("CAST(r.death_date AS DATE)")} END AS death_ms,
            {kyiv_midnight("add_months(CAST(r.birth_date AS DATE), 216)")} AS adult_ms,
            coalesce(l.per_month, {star if star is not None else "CAST(NULL AS BIGINT)"}) AS trip_limit,
            coalesce(dl.day_limit, {m.daily_max}) AS day_limit
          FROM cards_raw r LEFT JOIN limits l ON l.category = r.category
          LEFT JOIN day_limits dl ON dl.category = r.category""",
      "cards", "registry into Spark (dates in Kyiv)")
    cols = ("unix_millis(tapped_at) AS t, CAST(validator_id AS INT) AS validator_id, CAST(seq AS BIGINT) AS seq, "
            "CAST(card_number AS BIGINT) AS card_number, CAST(card_uid AS STRING) AS card_uid, "
            "CAST(vehicle_id AS INT) AS vehicle_id, CAST(carrier_id AS INT) AS carrier_id, CAST(route AS INT) AS route, "
            "CAST(trips AS INT) AS trips, CAST(batch AS BIGINT) AS batch")
    spark.read.parquet(*m.month_files).createOrReplaceTempView("month_taps")
    taps = f"SELECT {cols}, false AS ctx FROM month_taps WHERE result = 'accepted'"
    if m.prev_files:
        spark.read.parquet(*m.prev_files).createOrReplaceTempView("prev_taps")
        taps += (f" UNION ALL SELECT * FROM (SELECT {cols}, true AS ctx FROM prev_taps"
                 f" WHERE result = 'accepted') p WHERE t >= {m.start - m.ctx_ms}")
    q(taps, "taps", "read the month (Parquet)")
    local = m.local()
    tol = m.tol

    # Pass A: the validator's order; each docking a marker row just before
    # the first tap numbered from it (DuckDB's ASOF join).
    q(f"""WITH seqd AS (
            SELECT validator_id, seq, t, ctx, card_number, batch, 1 AS is_tap, CAST(NULL AS BIGINT) AS dock_ms FROM taps
            UNION ALL
            SELECT validator_id, seq, CAST(NULL AS BIGINT), CAST(NULL AS BOOLEAN), CAST(NULL AS BIGINT),
                   CAST(NULL AS BIGINT), 0, dock_ms FROM docks),
          marked AS (
            SELECT *, last(dock_ms, true) OVER (PARTITION BY validator_id ORDER BY seq, is_tap
                                                ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS prev_dock_ms
            FROM seqd)
          SELECT x.validator_id, x.seq, x.t, x.ctx, x.card_number,
            CASE WHEN p IS NOT NULL AND n IS NOT NULL AND p <= n + {tol} AND t > n + {tol} THEN 1
                 WHEN p IS NOT NULL AND n IS NOT NULL AND p <= n + {tol} AND t < p - {tol} THEN 2
                 WHEN t > {m.now_ms + tol} OR (received_ms IS NOT NULL AND t > received_ms + {tol}) THEN 3
                 WHEN prev_dock_ms IS NOT NULL AND t < prev_dock_ms - {tol} THEN 4 END AS clock
          FROM (SELECT tp.validator_id, tp.seq, tp.t, tp.ctx, tp.card_number, tp.prev_dock_ms, b.received_ms,
                  lag(tp.t) OVER w AS p, lead(tp.t) OVER w AS n
                FROM (SELECT * FROM marked WHERE is_tap = 1) tp
                LEFT JOIN batches b ON b.batch = tp.batch
                WINDOW w AS (PARTITION BY tp.validator_id ORDER BY tp.seq)) x""",
      "a", "pass A: validator order, clock")
    k, window_ms = m.k, m.window_ms
    q(f"""SELECT validator_id, seq, t, card_number FROM (
            SELECT *, bool_or(coalesce(window_end, false)) OVER (PARTITION BY validator_id ORDER BY seq
                      ROWS BETWEEN CURRENT ROW AND {k - 1} FOLLOWING) AS in_burst
            FROM (SELECT validator_id, seq, t, ctx, card_number,
                    t - lag(t, {k - 1}) OVER (PARTITION BY validator_id ORDER BY seq) <= {window_ms} AS window_end
                  FROM a WHERE clock IS NULL) e) w
          WHERE in_burst AND NOT ctx""", "windows", "burst windows")
    q(m.bursts("adult_ms"),
      "bursts", "driver's stacks")
    q("""SELECT tp.* FROM taps tp
         LEFT SEMI JOIN (SELECT validator_id, seq FROM a WHERE clock IS NULL) ok
           ON ok.validator_id = tp.validator_id AND ok.seq = tp.seq""", "trusted", "trusted taps")
    q(m.rowwise(), "rowwise", "row-wise rules")
    q(f"""SELECT validator_id, seq, t, ctx FROM (
            SELECT validator_id, seq, t, ctx,
              t - lag(t) OVER (PARTITION BY card_number, vehicle_id ORDER BY t) < {m.repeat_ms} AS is_repeat
            FROM trusted) x WHERE is_repeat""", "r", "pass B: repeats")
    q(f"""SELECT validator_id, seq, t, ctx, card_number, card_uid, vehicle_id, route, trips,
            lag(t) OVER w AS pt, lag(vehicle_id) OVER w AS pv, lag(trips) OVER w AS ptrips,
            lag(route) OVER w AS pr, lag(t, 2) OVER w AS pt2, lag(vehicle_id, 2) OVER w AS pv2,
            lead(t) OVER w AS nt, lead(vehicle_id) OVER w AS nv,
            sum(CASE WHEN ctx THEN 0 ELSE 1 END) OVER (PARTITION BY card_number ORDER BY t
                ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS ordinal,
            {local} - {local} % {DAY} AS day
          FROM (SELECT tr.validator_id, tr.seq, tr.t, tr.ctx, tr.card_number, tr.card_uid, tr.vehicle_id, tr.route, tr.trips
                FROM trusted tr LEFT ANTI JOIN r ON r.validator_id = tr.validator_id AND r.seq = tr.seq) x
          WINDOW w AS (PARTITION BY card_number ORDER BY t)""", "c", "pass C: card order")
    q(f"""WITH mm AS (SELECT * FROM c WHERE NOT ctx),
          one AS (SELECT card_number FROM mm GROUP BY card_number
                  HAVING count(*) >= {m.single_min} AND min(vehicle_id) = max(vehicle_id)),
          busy AS ({m.excessive("mm")}),
          uids AS (SELECT mm.card_number, min_by(mm.card_uid, mm.t) AS first_uid FROM mm
                   LEFT ANTI JOIN (SELECT card_number FROM cards WHERE reg_uid IS NOT NULL) k
                     ON k.card_number = mm.card_number
                   GROUP BY mm.card_number HAVING count(DISTINCT mm.card_uid) > 1)
          SELECT mm.validator_id, mm.seq, mm.t, 'single_vehicle_card' AS rule FROM mm
            LEFT SEMI JOIN one ON one.card_number = mm.card_number
          UNION ALL SELECT mm.validator_id, mm.seq, mm.t, 'excessive_daily_use' FROM mm
            LEFT SEMI JOIN busy ON busy.card_number = mm.card_number AND busy.day = mm.day
          UNION ALL SELECT mm.validator_id, mm.seq, mm.t, 'trip_limit' FROM mm JOIN cards k ON k.card_number = mm.card_number
                    WHERE k.trip_limit IS NOT NULL AND mm.ordinal > k.trip_limit
          UNION ALL SELECT mm.validator_id, mm.seq, mm.t, 'cloned_uid' FROM mm JOIN uids u ON u.card_number = mm.card_number
                    WHERE mm.card_uid <> u.first_uid""", "counts", "pass C: per-card counts")
    q(m.impossible_travel(), "it", "pass C: quick changes in the month's network")
    q(f"""SELECT validator_id, seq, t, 'clock_anomaly' AS rule FROM a WHERE clock IS NOT NULL AND NOT ctx
          UNION ALL SELECT validator_id, seq, t, 'driver_burst' FROM bursts
          UNION ALL SELECT validator_id, seq, t, 'repeat_same_vehicle' FROM r WHERE NOT ctx
          UNION ALL SELECT validator_id, seq, t, rule FROM rowwise
          UNION ALL SELECT validator_id, seq, t, 'impossible_travel' FROM it
          UNION ALL SELECT validator_id, seq, t, 'counter_backwards' FROM c
                    WHERE trips < ptrips AND ptrips - trips < 32768 AND NOT ctx
          UNION ALL SELECT validator_id, seq, t, rule FROM counts""", "hits", "every rule's hits")
    day = f"({local} - {local} % {DAY})"
    config = ",".join(f"'{r}'" for r in CONFIG_RULES)
    rows = q(f"""
      WITH days AS (SELECT validator_id, {day} AS day, count(*) AS n FROM a WHERE NOT ctx GROUP BY validator_id, {day}),
      groups AS (
        SELECT g.validator_id, g.day, g.rule FROM (
          SELECT validator_id, {day} AS day, rule, count(*) AS k FROM hits WHERE rule IN ({config})
          GROUP BY validator_id, {day}, rule) g
        JOIN days d ON d.validator_id = g.validator_id AND d.day = g.day
        WHERE k >= {m.suspect_min} AND k * 100 >= n * {m.suspect_share})
      SELECT DISTINCT h.validator_id, h.seq, CASE WHEN g.rule IS NULL THEN h.rule ELSE 'config_suspect' END AS rule
      FROM (SELECT *, {day} AS day FROM hits) h
      LEFT JOIN groups g ON g.validator_id = h.validator_id AND g.day = h.day AND g.rule = h.rule
    """, what="configuration suspects").collect()
    ours = {(r.validator_id, r.seq, r.rule) for r in rows}
    out = {"engine": f"Spark {spark.version}, {spark.sparkContext.master}", "month": month,
           "rows": len(ours), "taps": len({(v, s) for v, s, _ in ours}),
           "seconds": round(time.perf_counter() - started, 3),
           "by_rule": {r: sum(1 for x in ours if x[2] == r) for r in RULES},
           # The taps the rules hold (not paid) and those for review only
           # (paid unless an analyst holds them), by src/flags/severity.csv.
           "held": len(hold_split(ours)[0]), "review": len(hold_split(ours)[1]),
           "timings_s": timings}
    code = 0
    if compare:
        theirs = {(r.validator_id, r.seq, r.rule) for r in
                  spark.read.parquet(compare).selectExpr("CAST(validator_id AS INT) AS validator_id",
                                                        "CAST(seq AS BIGINT) AS seq", "rule").collect()}
        out["same"] = ours == theirs
        out["only_spark"] = sorted(ours - theirs)[:10]
        out["only_kartka"] = sorted(theirs - ours)[:10]
        out["differ"] = len(ours ^ theirs)
        code = 0 if ours == theirs else 1
        print(f"{month}: Spark and kartka {'flag the same' if code == 0 else 'DIFFER on'} "
              f"{len(ours) if code == 0 else out['differ']} (validator, seq, rule) rows "
              f"(Spark {out['seconds']} s)", file=sys.stderr)
    spark.stop()
    print(json.dumps(out) if "--json" in argv else json.dumps(out, indent=1))
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv))
