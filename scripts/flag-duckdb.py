#!/usr/bin/env python3
"""The peer: the same suspicious-tap rules as `kartka taps flag`, in SQL on
DuckDB, over the same Parquet store and the same registry.

    flag-duckdb.py HOME MONTH [--compare FLAGS.parquet] [--json]

Reads the thresholds from HOME/kartka.toml, the reference tables (cards
with their states, the carriers' routes, batches, dockings) from
HOME/registry.sqlite with Python's sqlite3 (DuckDB's sqlite extension would
have to be downloaded), and the month's taps plus the previous month's
last hours from the Parquet files the registry lists. Every rule follows
src/flags/engine.rs; the comments name the pass. With --compare, checks
that both flagged exactly the same (validator, seq, rule) rows and exits 1
when they differ. Prints the seconds taken (registry read + query).
"""
import csv, json, os, sqlite3, sys, tempfile, time, tomllib
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import duckdb

KYIV = ZoneInfo("Europe/Kyiv")
DAY = 86_400_000
RULES = ["repeat_same_vehicle", "impossible_travel", "driver_burst", "single_vehicle_card",
         "excessive_daily_use", "card_unknown", "card_blocked", "card_expired", "holder_deceased",
         "outside_service_hours", "route_not_served", "cloned_uid", "counter_backwards",
         "clock_anomaly", "trip_limit", "config_suspect"]
# The rules a configuration fault makes fire on a whole validator-day.
CONFIG_RULES = ["route_not_served", "outside_service_hours", "clock_anomaly"]


def kyiv_ms(d):
    return int(datetime(d.year, d.month, d.day, tzinfo=KYIV).timestamp() * 1000)


def utc_ms(text):
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


def minutes(t):
    h, m = t.split(":")
    return int(h) * 60 + int(m)


def month_clock(first):
    nxt = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    start, end = kyiv_ms(first), kyiv_ms(nxt)
    off = lambda ms: int(datetime.fromtimestamp(ms / 1000, KYIV).utcoffset().total_seconds() * 1000)
    before, after = off(start), off(end - 1)
    switch = 2**63 - 1
    if before != after:
        t = start
        while off(t) == before:
            t += 3_600_000
        switch = t
    return start, end, before, after, switch


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    home, month = args[0], args[1]
    compare = sys.argv[sys.argv.index("--compare") + 1] if "--compare" in sys.argv else None
    started = time.perf_counter()
    with open(os.path.join(home, "kartka.toml"), "rb") as f:
        config = tomllib.load(f)
    fl = config.get("flags", {})
    dock = config.get("dock", {})
    repeat_ms = fl.get("repeat_timeout_s", dock.get("repeat_timeout_s", 900)) * 1000
    transfer_ms = fl.get("transfer_min_s", 300) * 1000
    k = fl.get("burst_cards", 8)
    window_ms = fl.get("burst_window_s", 30) * 1000
    card_min = fl.get("burst_card_min_taps", 3)
    card_share = fl.get("burst_card_share_pct", 90)
    stack_share = fl.get("burst_stack_share_pct", 50)
    single_min = fl.get("single_vehicle_min_taps", 10)
    daily_max = fl.get("daily_max", 6)
    tol_service = fl.get("service_tolerance_min", 15) * 60_000
    open_ms = minutes(fl.get("service_start", "05:30")) * 60_000 - tol_service
    close_ms = minutes(fl.get("service_end", "23:30")) * 60_000 + tol_service
    tol = fl.get("clock_tolerance_s", 600) * 1000
    limits = {l["category"]: l["per_month"] for l in fl.get("trip_limits", [])}
    suspect_share = fl.get("suspect_share_pct", 50)
    suspect_min = fl.get("suspect_min_taps", 20)
    now_ms = int(time.time() * 1000)

    first = date.fromisoformat(month + "-01")
    start, end, before, after, switch = month_clock(first)
    prev = (first - timedelta(days=1)).strftime("%Y-%m")
    ctx_ms = max(repeat_ms, transfer_ms, window_ms, tol)

    reg = sqlite3.connect(os.path.join(home, "registry.sqlite"))
    files = lambda m: [os.path.join(home, p) for (p,) in reg.execute(
        "SELECT path FROM tap_files WHERE replaced_at IS NULL AND month = ? ORDER BY id", (m,))]
    month_files, prev_files = files(month), files(prev)
    tmp = tempfile.mkdtemp(prefix="flag-duckdb-")

    def table(name, header, rows):
        path = os.path.join(tmp, name + ".csv")
        with open(path, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(header)
            w.writerows(rows)
        return path

    def date_ms(text, next_day):
        d = date.fromisoformat(text[:10])
        return kyiv_ms(d + timedelta(days=1) if next_day else d)

    cards = []
    for number, category, vfrom, vto, death, uid, blocked in reg.execute(
        """SELECT c.number, c.category, c.valid_from, c.valid_to, p.death_date,
                  (SELECT e.uid FROM card_events e WHERE e.card_id = c.id AND e.uid IS NOT NULL ORDER BY e.id DESC LIMIT 1),
                  (SELECT b.effective FROM card_events b WHERE b.card_id = c.id AND b.state = 'blocked' ORDER BY b.id LIMIT 1)
           FROM cards c JOIN people p ON p.id = c.person_id"""):
        limit = limits.get(category, limits.get("*"))
        cards.append((number, uid.upper() if uid else None, date_ms(vfrom, False), date_ms(vto, True),
                      utc_ms(blocked) if blocked else None, date_ms(death, False) if death else None, limit))
    cards_csv = table("cards", ["card_number", "reg_uid", "valid_from_ms", "valid_until_ms", "blocked_ms", "death_ms", "trip_limit"], cards)
    served = sorted({(c, int(r)) for c, routes in reg.execute("SELECT carrier, routes FROM vehicles")
                     for r in routes.split(",") if r.strip()})
    served_csv = table("served", ["carrier_id", "route"], served)
    hours = [(r["route"], minutes(r["start"]) * 60_000 - tol_service, minutes(r["end"]) * 60_000 + tol_service)
             for r in fl.get("routes", [])]
    hours_csv = table("hours", ["route", "open_ms", "close_ms"], hours)
    batches_csv = table("batches", ["batch", "received_ms"],
                        [(b, utc_ms(at)) for b, at in reg.execute("SELECT id, stored_at FROM tap_batches")])
    docks_csv = table("docks", ["validator_id", "seq", "dock_ms"],
                      [(v, n, utc_ms(at)) for v, n, at in reg.execute(
                          "SELECT validator, next, started_at FROM dock_sessions WHERE validator IS NOT NULL AND next IS NOT NULL")])
    if not month_files:
        sys.exit(f"{month}: no taps")

    con = duckdb.connect()
    q = lambda sql: con.execute(sql)
    lst = lambda fs: "[" + ",".join(f"'{f}'" for f in fs) + "]"
    typed = {"card_number": "BIGINT", "reg_uid": "VARCHAR", "valid_from_ms": "BIGINT", "valid_until_ms": "BIGINT",
             "blocked_ms": "BIGINT", "death_ms": "BIGINT", "trip_limit": "BIGINT"}
    q(f"CREATE TEMP TABLE cards AS SELECT * FROM read_csv('{cards_csv}', header=true, columns={typed})")
    q(f"CREATE TEMP TABLE served AS SELECT * FROM read_csv('{served_csv}', header=true, columns={{'carrier_id':'INTEGER','route':'INTEGER'}})")
    q(f"CREATE TEMP TABLE hours AS SELECT * FROM read_csv('{hours_csv}', header=true, columns={{'route':'INTEGER','open_ms':'BIGINT','close_ms':'BIGINT'}})")
    q(f"CREATE TEMP TABLE batches AS SELECT * FROM read_csv('{batches_csv}', header=true, columns={{'batch':'BIGINT','received_ms':'BIGINT'}})")
    q(f"CREATE TEMP TABLE docks AS SELECT * FROM read_csv('{docks_csv}', header=true, columns={{'validator_id':'INTEGER','seq':'BIGINT','dock_ms':'BIGINT'}})")
    cols = "epoch_ms(tapped_at) AS t, validator_id, seq, card_number, card_uid, vehicle_id, carrier_id, route, trips, batch"
    taps = f"SELECT {cols}, false AS ctx FROM read_parquet({lst(month_files)}) WHERE result = 'accepted'"
    if prev_files:
        taps += (f" UNION ALL SELECT * FROM (SELECT {cols}, true AS ctx FROM read_parquet({lst(prev_files)})"
                 f" WHERE result = 'accepted') WHERE t >= {start - ctx_ms}")
    local = f"(t + CASE WHEN t >= {switch} THEN {after} ELSE {before} END)"

    # Pass A: the validator's order; the clock rule, then bursts on trusted taps.
    q(f"""CREATE TEMP TABLE a AS
      SELECT x.*,
        CASE WHEN p IS NOT NULL AND n IS NOT NULL AND p <= n + {tol} AND t > n + {tol} THEN 1
             WHEN p IS NOT NULL AND n IS NOT NULL AND p <= n + {tol} AND t < p - {tol} THEN 2
             WHEN t > {now_ms + tol} OR (received_ms IS NOT NULL AND t > received_ms + {tol}) THEN 3
             WHEN prev_dock_ms IS NOT NULL AND t < prev_dock_ms - {tol} THEN 4 END AS clock
      FROM (SELECT tp.*, d.dock_ms AS prev_dock_ms, b.received_ms,
              lag(tp.t) OVER w AS p, lead(tp.t) OVER w AS n
            FROM ({taps}) tp
            ASOF LEFT JOIN docks d ON d.validator_id = tp.validator_id AND tp.seq >= d.seq
            LEFT JOIN batches b ON b.batch = tp.batch
            WINDOW w AS (PARTITION BY tp.validator_id ORDER BY tp.seq)) x""")
    # Burst windows (burst_cards taps within burst_window_s), then the runs
    # of them that are a driver's stack: at least stack_share % of a run's
    # taps on cards with card_min taps or more in the month, card_share %
    # of them in burst windows on that validator.
    q(f"""CREATE TEMP TABLE windows AS
      SELECT validator_id, seq, t, card_number FROM (
        SELECT *, bool_or(coalesce(window_end, false)) OVER (PARTITION BY validator_id ORDER BY seq
                  ROWS BETWEEN CURRENT ROW AND {k - 1} FOLLOWING) AS in_burst
        FROM (SELECT *, t - lag(t, {k - 1}) OVER (PARTITION BY validator_id ORDER BY seq) <= {window_ms} AS window_end
              FROM a WHERE clock IS NULL))
      WHERE in_burst AND NOT ctx""")
    q(f"""CREATE TEMP TABLE bursts AS
      WITH runs AS (
        SELECT *, sum(CASE WHEN prev_t IS NULL OR t - prev_t > {window_ms} THEN 1 ELSE 0 END)
                    OVER (PARTITION BY validator_id ORDER BY seq ROWS UNBOUNDED PRECEDING) AS run
        FROM (SELECT *, lag(t) OVER (PARTITION BY validator_id ORDER BY seq) AS prev_t FROM windows)),
      totals AS (SELECT card_number, count(*) AS total FROM a WHERE NOT ctx GROUP BY card_number),
      cards AS (
        SELECT runs.*, coalesce(totals.total, 0) AS total,
               count(*) OVER (PARTITION BY runs.validator_id, runs.card_number) AS here
        FROM runs LEFT JOIN totals USING (card_number)),
      judged AS (
        SELECT *, sum(CASE WHEN total >= {card_min} AND here * 100 >= total * {card_share} THEN 1 ELSE 0 END)
                    OVER (PARTITION BY validator_id, run) AS stacked,
                  count(*) OVER (PARTITION BY validator_id, run) AS run_n
        FROM cards)
      SELECT validator_id, seq, t FROM judged WHERE stacked * 100 >= run_n * {stack_share}""")
    # Pass B: the registry joins and repeats per (card, vehicle).
    q(f"""CREATE TEMP TABLE b AS
      SELECT a.t, a.validator_id, a.seq, a.card_number, a.card_uid, a.vehicle_id, a.carrier_id, a.route, a.trips, a.ctx,
        c.reg_uid, c.valid_from_ms, c.valid_until_ms, c.blocked_ms, c.death_ms, c.trip_limit,
        s.route IS NOT NULL AS served, coalesce(h.open_ms, {open_ms}) AS open_ms, coalesce(h.close_ms, {close_ms}) AS close_ms,
        {local} % {DAY} AS tod,
        coalesce(a.t - lag(a.t) OVER (PARTITION BY a.card_number, a.vehicle_id ORDER BY a.t) < {repeat_ms}, false) AS repeat
      FROM a LEFT JOIN cards c USING (card_number)
      LEFT JOIN served s ON s.carrier_id = a.carrier_id AND s.route = a.route
      LEFT JOIN hours h ON h.route = a.route
      WHERE a.clock IS NULL""")
    # Pass C: counted taps by (card, time); per-card counts on this month's rows.
    q(f"""CREATE TEMP TABLE c AS
      SELECT *, lag(t) OVER w AS pt, lag(vehicle_id) OVER w AS pv, lag(trips) OVER w AS ptrips
      FROM b WHERE NOT repeat WINDOW w AS (PARTITION BY card_number ORDER BY t)""")
    q(f"""CREATE TEMP TABLE n AS
      SELECT validator_id, seq, t, card_uid, reg_uid, trip_limit,
        count(*) OVER (PARTITION BY card_number) AS n_card,
        min(vehicle_id) OVER (PARTITION BY card_number) = max(vehicle_id) OVER (PARTITION BY card_number) AS one_vehicle,
        count(*) OVER (PARTITION BY card_number, {local} - {local} % {DAY}) AS n_day,
        row_number() OVER (PARTITION BY card_number ORDER BY t) AS ordinal,
        first_value(card_uid) OVER (PARTITION BY card_number ORDER BY t) AS first_uid
      FROM c WHERE NOT ctx""")
    q(f"""CREATE TEMP TABLE hits AS
      SELECT validator_id, seq, t, 'clock_anomaly' AS rule FROM a WHERE clock IS NOT NULL AND NOT ctx
      UNION ALL SELECT validator_id, seq, t, 'driver_burst' FROM bursts
      UNION ALL SELECT validator_id, seq, t, 'repeat_same_vehicle' FROM b WHERE repeat AND NOT ctx
      UNION ALL SELECT validator_id, seq, t, 'card_unknown' FROM b WHERE valid_from_ms IS NULL AND NOT ctx
      UNION ALL SELECT validator_id, seq, t, 'card_blocked' FROM b WHERE t >= blocked_ms AND NOT ctx
      UNION ALL SELECT validator_id, seq, t, 'card_expired' FROM b WHERE (t >= valid_until_ms OR t < valid_from_ms) AND NOT ctx
      UNION ALL SELECT validator_id, seq, t, 'holder_deceased' FROM b WHERE t >= death_ms AND NOT ctx
      UNION ALL SELECT validator_id, seq, t, 'outside_service_hours' FROM b WHERE CASE WHEN open_ms > close_ms THEN tod < open_ms AND tod > close_ms ELSE tod < open_ms OR tod > close_ms END AND NOT ctx
      UNION ALL SELECT validator_id, seq, t, 'route_not_served' FROM b WHERE carrier_id IS NOT NULL AND NOT served AND NOT ctx
      UNION ALL SELECT validator_id, seq, t, 'cloned_uid' FROM b WHERE reg_uid IS NOT NULL AND card_uid <> reg_uid AND NOT ctx
      UNION ALL SELECT validator_id, seq, t, 'impossible_travel' FROM c WHERE pv <> vehicle_id AND t - pt < {transfer_ms} AND NOT ctx
      UNION ALL SELECT validator_id, seq, t, 'counter_backwards' FROM c WHERE trips < ptrips AND ptrips - trips < 32768 AND NOT ctx
      UNION ALL SELECT validator_id, seq, t, 'single_vehicle_card' FROM n WHERE one_vehicle AND n_card >= {single_min}
      UNION ALL SELECT validator_id, seq, t, 'excessive_daily_use' FROM n WHERE n_day > {daily_max}
      UNION ALL SELECT validator_id, seq, t, 'trip_limit' FROM n WHERE ordinal > trip_limit
      UNION ALL SELECT validator_id, seq, t, 'cloned_uid' FROM n WHERE reg_uid IS NULL AND card_uid <> first_uid
    """)
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
    """).fetchall()
    seconds = time.perf_counter() - started
    ours = set(rows)
    out = {"engine": "duckdb " + duckdb.__version__, "month": month, "rows": len(ours),
           "taps": len({(v, s) for v, s, _ in ours}), "seconds": round(seconds, 3),
           "by_rule": {r: sum(1 for x in ours if x[2] == r) for r in RULES},
           # Taps in burst windows (queues and stacks alike): what a burst
           # rule without the cards' own lives would hold.
           "burst_window_taps": q("SELECT count(*) FROM windows").fetchone()[0]}
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
