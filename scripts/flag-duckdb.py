#!/usr/bin/env python3
"""The peer: the same suspicious-tap rules as `kartka taps flag`, in SQL on
DuckDB, over the same Parquet store and the same registry.

    flag-duckdb.py HOME MONTH [--compare FLAGS.parquet] [--json]

Reads the thresholds from HOME/kartka.toml, the reference tables from
HOME/registry.sqlite with Python's sqlite3 (DuckDB's sqlite extension would
have to be downloaded): the cards with their last UID and first block in one
set-based query (no per-card subqueries), written raw and converted in
DuckDB (Kyiv midnights through ICU), the carriers' routes, batches and
dockings; then the month's taps plus the previous month's last hours from
the Parquet files the registry lists, once, narrow. The plan follows
src/flags/engine.rs: pass A by (validator, seq) on narrow rows (clock, with
the dockings by an ASOF join; burst windows and their runs), the row-wise
rules by hash joins only (no sort), one narrow sort by (card, vehicle, time)
for the repeats, one window by (card, time) for pass C, the per-card counts;
the first UID only for the few cards without a registered one that show two;
`preserve_insertion_order` off. With --compare, checks that both flagged
exactly the same (validator, seq, rule) rows and exits 1 when they differ.
Prints the seconds taken and each step's (`timings_s`).
"""
import csv, json, os, sys, tempfile, time

import duckdb

from flag_common import CONFIG_RULES, DAY, RULES, Month, hold_split


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    home, month = args[0], args[1]
    compare = sys.argv[sys.argv.index("--compare") + 1] if "--compare" in sys.argv else None
    started = time.perf_counter()
    m = Month(home, month)
    repeat_ms, transfer_ms, k, window_ms = m.repeat_ms, m.transfer_ms, m.k, m.window_ms
    card_min, card_share, stack_share = m.card_min, m.card_share, m.stack_share
    single_min, daily_max, tol = m.single_min, m.daily_max, m.tol
    suspect_share, suspect_min, now_ms = m.suspect_share, m.suspect_min, m.now_ms
    start, ctx_ms = m.start, m.ctx_ms
    month_files, prev_files = m.month_files, m.prev_files
    tmp = tempfile.mkdtemp(prefix="flag-duckdb-")

    def table(name, header, rows):
        path = os.path.join(tmp, name + ".csv")
        with open(path, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(header)
            w.writerows(rows)
        return path

    cards_raw = table("cards_raw", ["card_number", "category", "valid_from", "valid_to", "death_date", "uid", "blocked",
                                    "birth_date"], m.cards)
    limits_csv = table("limits", ["category", "per_month"], m.limits)
    day_limits_csv = table("day_limits", ["category", "day_limit"], m.day_limits)
    known_csv = table("known", ["from_r", "to_r", "ms"], m.known)
    served_csv = table("served", ["carrier_id", "route"], m.served)
    hours_csv = table("hours", ["route", "open_ms", "close_ms"], m.hours)
    batches_csv = table("batches", ["batch", "received_ms"], m.batches)
    docks_csv = table("docks", ["validator_id", "seq", "dock_ms"], m.docks)
    if not month_files:
        sys.exit(f"{month}: no taps")

    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = false")
    timings = {"registry read": time.perf_counter() - started}
    def q(sql, what=None):
        t0 = time.perf_counter()
        r = con.execute(sql)
        if what:
            timings[what] = round(time.perf_counter() - t0, 3)
        return r
    lst = lambda fs: "[" + ",".join(f"'{f}'" for f in fs) + "]"
    kyiv_midnight = lambda d: f"epoch_ms(({d})::TIMESTAMP AT TIME ZONE 'Europe/Kyiv')"
    q(f"""CREATE TEMP TABLE cards AS
      SELECT r.card_number, r.uid AS reg_uid,
        {kyiv_midnight("r.valid_from::DATE")} AS valid_from_ms,
        {kyiv_midnight("r.valid_to::DATE + 1")} AS valid_until_ms,
        epoch_ms(r.blocked::TIMESTAMPTZ) AS blocked_ms,
        CASE WHEN r.death_date IS NOT NULL THEN {kyiv_midnight("r.death_date::DATE")} END AS death_ms,
        {kyiv_midnight("(r.birth_date::DATE + INTERVAL 18 YEAR)::DATE")} AS adult_ms,
        coalesce(l.per_month, s.per_month) AS trip_limit,
        coalesce(dl.day_limit, {m.daily_max}) AS day_limit
      FROM read_csv('{cards_raw}', header=true, columns={{'card_number':'BIGINT','category':'VARCHAR','valid_from':'VARCHAR',
        'valid_to':'VARCHAR','death_date':'VARCHAR','uid':'VARCHAR','blocked':'VARCHAR','birth_date':'VARCHAR'}}) r
      LEFT JOIN read_csv('{limits_csv}', header=true, columns={{'category':'VARCHAR','per_month':'BIGINT'}}) l ON l.category = r.category
      LEFT JOIN (SELECT * FROM read_csv('{limits_csv}', header=true, columns={{'category':'VARCHAR','per_month':'BIGINT'}})
                 WHERE category = '*') s ON true
      LEFT JOIN read_csv('{day_limits_csv}', header=true, columns={{'category':'VARCHAR','day_limit':'BIGINT'}}) dl
        ON dl.category = r.category""", "registry into DuckDB (dates in Kyiv)")
    q(f"CREATE TEMP TABLE known AS SELECT * FROM read_csv('{known_csv}', header=true, columns={{'from_r':'INTEGER','to_r':'INTEGER','ms':'BIGINT'}})")
    q(f"CREATE TEMP TABLE served AS SELECT * FROM read_csv('{served_csv}', header=true, columns={{'carrier_id':'INTEGER','route':'INTEGER'}})")
    q(f"CREATE TEMP TABLE hours AS SELECT * FROM read_csv('{hours_csv}', header=true, columns={{'route':'INTEGER','open_ms':'BIGINT','close_ms':'BIGINT'}})")
    q(f"CREATE TEMP TABLE batches AS SELECT * FROM read_csv('{batches_csv}', header=true, columns={{'batch':'BIGINT','received_ms':'BIGINT'}})")
    q(f"CREATE TEMP TABLE docks AS SELECT * FROM read_csv('{docks_csv}', header=true, columns={{'validator_id':'INTEGER','seq':'BIGINT','dock_ms':'BIGINT'}})")
    cols = "epoch_ms(tapped_at) AS t, validator_id, seq, card_number, card_uid, vehicle_id, carrier_id, route, trips, batch"
    taps = f"SELECT {cols}, false AS ctx FROM read_parquet({lst(month_files)}) WHERE result = 'accepted'"
    if prev_files:
        taps += (f" UNION ALL SELECT * FROM (SELECT {cols}, true AS ctx FROM read_parquet({lst(prev_files)})"
                 f" WHERE result = 'accepted') WHERE t >= {start - ctx_ms}")
    local = m.local()
    q(f"CREATE TEMP TABLE taps AS {taps}", "read the month (Parquet)")

    # Pass A: the validator's order (narrow: keys, time, batch); the clock
    # rule, then bursts on trusted taps.
    q(f"""CREATE TEMP TABLE a AS
      SELECT x.validator_id, x.seq, x.t, x.ctx, x.card_number,
        CASE WHEN p IS NOT NULL AND n IS NOT NULL AND p <= n + {tol} AND t > n + {tol} THEN 1
             WHEN p IS NOT NULL AND n IS NOT NULL AND p <= n + {tol} AND t < p - {tol} THEN 2
             WHEN t > {now_ms + tol} OR (received_ms IS NOT NULL AND t > received_ms + {tol}) THEN 3
             WHEN prev_dock_ms IS NOT NULL AND t < prev_dock_ms - {tol} THEN 4 END AS clock
      FROM (SELECT tp.validator_id, tp.seq, tp.t, tp.ctx, tp.card_number, d.dock_ms AS prev_dock_ms, b.received_ms,
              lag(tp.t) OVER w AS p, lead(tp.t) OVER w AS n
            FROM (SELECT validator_id, seq, t, ctx, card_number, batch FROM taps) tp
            ASOF LEFT JOIN docks d ON d.validator_id = tp.validator_id AND tp.seq >= d.seq
            LEFT JOIN batches b ON b.batch = tp.batch
            WINDOW w AS (PARTITION BY tp.validator_id ORDER BY tp.seq)) x""", "pass A: validator order, clock")
    # Burst windows (burst_cards taps within burst_window_s) and their runs
    # in one window over the trusted taps; then the runs that are a
    # driver's stack.
    q(f"""CREATE TEMP TABLE windows AS
      SELECT validator_id, seq, t, card_number FROM (
        SELECT *, bool_or(coalesce(window_end, false)) OVER (PARTITION BY validator_id ORDER BY seq
                  ROWS BETWEEN CURRENT ROW AND {k - 1} FOLLOWING) AS in_burst
        FROM (SELECT validator_id, seq, t, ctx, card_number,
                t - lag(t, {k - 1}) OVER (PARTITION BY validator_id ORDER BY seq) <= {window_ms} AS window_end
              FROM a WHERE clock IS NULL))
      WHERE in_burst AND NOT ctx""", "burst windows")
    q("CREATE TEMP TABLE bursts AS " + m.bursts("adult_ms"), "driver's stacks")
    # The trusted taps (those pass A did not judge by the clock).
    q("""CREATE TEMP TABLE trusted AS
      SELECT tp.* FROM taps tp
      SEMI JOIN (SELECT validator_id, seq FROM a WHERE clock IS NULL) ok
        ON ok.validator_id = tp.validator_id AND ok.seq = tp.seq""", "trusted taps")
    # The row-wise rules need no order: hash joins with the registry's
    # card, the carriers' routes and the routes' hours, only the hits kept.
    q("CREATE TEMP TABLE rowwise AS " + m.rowwise(), "row-wise rules (hash joins)")
    # Repeats per (card, vehicle), one narrow sort.
    q(f"""CREATE TEMP TABLE r AS
      SELECT validator_id, seq, t, ctx FROM (
        SELECT validator_id, seq, t, ctx,
          t - lag(t) OVER (PARTITION BY card_number, vehicle_id ORDER BY t) < {repeat_ms} AS repeat
        FROM trusted) WHERE repeat""", "pass B: repeats")
    # Pass C: counted taps by (card, time), one narrow window: the previous
    # tap, and the running count of the month's taps (the trip limit).
    q(f"""CREATE TEMP TABLE c AS
      SELECT validator_id, seq, t, ctx, card_number, card_uid, vehicle_id, route, trips,
        lag(t) OVER w AS pt, lag(vehicle_id) OVER w AS pv, lag(trips) OVER w AS ptrips,
        lag(route) OVER w AS pr, lag(t, 2) OVER w AS pt2, lag(vehicle_id, 2) OVER w AS pv2,
        lead(t) OVER w AS nt, lead(vehicle_id) OVER w AS nv,
        sum(CASE WHEN ctx THEN 0 ELSE 1 END) OVER (w ROWS UNBOUNDED PRECEDING) AS ordinal,
        {local} - {local} % {DAY} AS day
      FROM (SELECT validator_id, seq, t, ctx, card_number, card_uid, vehicle_id, route, trips FROM trusted) tr
      ANTI JOIN r USING (validator_id, seq)
      WINDOW w AS (PARTITION BY card_number ORDER BY t)""", "pass C: card order")
    # The per-card and per-day counts as hash aggregates over the month's
    # counted taps, joined back only where a rule fires.
    q(f"""CREATE TEMP TABLE counts AS
      WITH m AS (SELECT * FROM c WHERE NOT ctx),
      one AS (SELECT card_number FROM m GROUP BY card_number
              HAVING count(*) >= {single_min} AND min(vehicle_id) = max(vehicle_id)),
      busy AS ({m.excessive("m")}),
      uids AS (SELECT m.card_number, arg_min(m.card_uid, m.t) AS first_uid FROM m
               ANTI JOIN (SELECT card_number FROM cards WHERE reg_uid IS NOT NULL) k USING (card_number)
               GROUP BY m.card_number HAVING count(DISTINCT m.card_uid) > 1)
      SELECT validator_id, seq, t, 'single_vehicle_card' AS rule FROM m SEMI JOIN one USING (card_number)
      UNION ALL SELECT validator_id, seq, t, 'excessive_daily_use' FROM m SEMI JOIN busy USING (card_number, day)
      UNION ALL SELECT m.validator_id, m.seq, m.t, 'trip_limit' FROM m JOIN cards k USING (card_number)
                WHERE k.trip_limit IS NOT NULL AND m.ordinal > k.trip_limit
      UNION ALL SELECT m.validator_id, m.seq, m.t, 'cloned_uid' FROM m JOIN uids u USING (card_number)
                WHERE m.card_uid <> u.first_uid""", "pass C: per-card counts")
    q("CREATE TEMP TABLE it AS " + m.impossible_travel(), "pass C: quick changes in the month's network")
    q(f"""CREATE TEMP TABLE hits AS
      SELECT validator_id, seq, t, 'clock_anomaly' AS rule FROM a WHERE clock IS NOT NULL AND NOT ctx
      UNION ALL SELECT validator_id, seq, t, 'driver_burst' FROM bursts
      UNION ALL SELECT validator_id, seq, t, 'repeat_same_vehicle' FROM r WHERE NOT ctx
      UNION ALL SELECT validator_id, seq, t, rule FROM rowwise
      UNION ALL SELECT validator_id, seq, t, 'impossible_travel' FROM it
      UNION ALL SELECT validator_id, seq, t, 'counter_backwards' FROM c WHERE trips < ptrips AND ptrips - trips < 32768 AND NOT ctx
      UNION ALL SELECT validator_id, seq, t, rule FROM counts
    """, "every rule's hits")
    # Configuration suspects: a configuration rule on most of a validator's
    # taps in a Kyiv day holds them as config_suspect instead.
    day = f"({local} - {local} % {DAY})"
    config = ",".join(f"'{r}'" for r in CONFIG_RULES)
    rows = q(f"""
      WITH days AS (SELECT validator_id, {day} AS day, count(*) AS n FROM a WHERE NOT ctx GROUP BY ALL),
      groups AS (
        SELECT g.validator_id, g.day, g.rule FROM (
          SELECT validator_id, {day} AS day, rule, count(*) AS k FROM hits WHERE rule IN ({config}) GROUP BY ALL) g
        JOIN days USING (validator_id, day)
        WHERE k >= {suspect_min} AND k * 100 >= n * {suspect_share})
      SELECT DISTINCT h.validator_id, h.seq, CASE WHEN g.rule IS NULL THEN h.rule ELSE 'config_suspect' END
      FROM (SELECT *, {day} AS day FROM hits) h
      LEFT JOIN groups g ON g.validator_id = h.validator_id AND g.day = h.day AND g.rule = h.rule
    """, "configuration suspects").fetchall()
    seconds = time.perf_counter() - started
    ours = set(rows)
    out = {"engine": "duckdb " + duckdb.__version__, "month": month, "rows": len(ours),
           "taps": len({(v, s) for v, s, _ in ours}), "seconds": round(seconds, 3),
           "by_rule": {r: sum(1 for x in ours if x[2] == r) for r in RULES},
           # The taps the rules hold (not paid) and those for review only
           # (paid unless an analyst holds them), by src/flags/severity.csv.
           "held": len(hold_split(ours)[0]), "review": len(hold_split(ours)[1]),
           # Taps in burst windows (queues and stacks alike): what a burst
           # rule without the cards' own lives would hold.
           "burst_window_taps": q("SELECT count(*) FROM windows").fetchone()[0],
           "timings_s": {k: round(v, 3) for k, v in timings.items()}}
    code = 0
    if compare:
        theirs = set(con.execute(f"SELECT validator_id, seq, rule FROM read_parquet('{compare}')").fetchall())
        out["same"] = ours == theirs
        out["only_duckdb"] = sorted(ours - theirs)[:10]
        out["only_kartka"] = sorted(theirs - ours)[:10]
        out["differ"] = len(ours ^ theirs)
        code = 0 if ours == theirs else 1
    print(json.dumps(out) if "--json" in sys.argv else json.dumps(out, indent=1))
    sys.exit(code)


main()
