"""What the SQL peers of `kartka taps flag` share (scripts/flag-duckdb.py on
DuckDB, scripts/flag-spark.py on Spark SQL): the thresholds from
HOME/kartka.toml, the Kyiv month clock, and the registry's reference
tables read set-based with Python's sqlite3 (one query a table, no
per-card subqueries), as plain rows; dates stay text for the engine to
convert in Kyiv time.
"""
import os, sqlite3, time, tomllib
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

KYIV = ZoneInfo("Europe/Kyiv")
DAY = 86_400_000
RULES = ["repeat_same_vehicle", "impossible_travel", "driver_burst", "single_vehicle_card",
         "excessive_daily_use", "card_unknown", "card_blocked", "card_expired", "holder_deceased",
         "outside_service_hours", "route_not_served", "cloned_uid", "counter_backwards",
         "clock_anomaly", "trip_limit", "config_suspect"]
# Each rule's severity, from the table kartka itself reads
# (src/flags/severity.csv): a `review` rule's hit is paid unless an analyst
# holds it; every other rule's hit holds the tap.
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "flags", "severity.csv")) as _f:
    SEVERITY = dict(line.strip().split(",") for line in list(_f)[1:] if line.strip())
HOLD_RULES = sorted(r for r in RULES if SEVERITY[r] != "review")


def hold_split(rows):
    """Of (validator, seq, rule) hits, the taps held (a rule that holds) and
    the taps for review only (flagged, none of their rules holds)."""
    held = {(v, s) for v, s, r in rows if r in HOLD_RULES}
    return held, {(v, s) for v, s, _ in rows} - held


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
    """The month's start and end (UTC ms), its UTC offsets before and after
    its DST change, and the change (or 2**63 - 1)."""
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


class Month:
    """One month of one home: the thresholds, the clock, the tap files and
    the registry's tables."""

    def __init__(self, home, month):
        with open(os.path.join(home, "kartka.toml"), "rb") as f:
            config = tomllib.load(f)
        fl = config.get("flags", {})
        dock = config.get("dock", {})
        self.repeat_ms = fl.get("repeat_timeout_s", dock.get("repeat_timeout_s", 900)) * 1000
        self.transfer_ms = fl.get("transfer_min_s", 300) * 1000
        self.k = fl.get("burst_cards", 8)
        self.window_ms = fl.get("burst_window_s", 30) * 1000
        self.card_min = fl.get("burst_card_min_taps", 3)
        self.card_share = fl.get("burst_card_share_pct", 90)
        self.stack_share = fl.get("burst_stack_share_pct", 50)
        self.gap_ms = fl.get("burst_gap_s", 5) * 1000
        self.even_pct = fl.get("burst_even_pct", 50)
        self.single_min = fl.get("single_vehicle_min_taps", 10)
        self.daily_max = fl.get("daily_max", 6)
        tol_service = fl.get("service_tolerance_min", 15) * 60_000
        self.open_ms = minutes(fl.get("service_start", "05:30")) * 60_000 - tol_service
        self.close_ms = minutes(fl.get("service_end", "23:30")) * 60_000 + tol_service
        self.tol = fl.get("clock_tolerance_s", 600) * 1000
        self.limits = sorted({l["category"]: l["per_month"] for l in fl.get("trip_limits", [])}.items())
        self.suspect_share = fl.get("suspect_share_pct", 50)
        self.suspect_min = fl.get("suspect_min_taps", 20)
        self.now_ms = int(time.time() * 1000)
        self.month = month
        first = date.fromisoformat(month + "-01")
        self.start, self.end, self.before, self.after, self.switch = month_clock(first)
        prev = (first - timedelta(days=1)).strftime("%Y-%m")
        self.ctx_ms = max(self.repeat_ms, self.transfer_ms, self.window_ms, self.tol)

        reg = sqlite3.connect(os.path.join(home, "registry.sqlite"))
        files = lambda m: [os.path.join(home, p) for (p,) in reg.execute(
            "SELECT path FROM tap_files WHERE replaced_at IS NULL AND month = ? ORDER BY id", (m,))]
        self.month_files, self.prev_files = files(month), files(prev)
        # card_number, category, valid_from, valid_to, death_date (dates as
        # text), the last UID, when its first block took effect, the
        # holder's birth date.
        self.cards = reg.execute(
            """WITH last_uid AS (
                 SELECT e.card_id, e.uid FROM card_events e
                 JOIN (SELECT card_id, max(id) AS id FROM card_events WHERE uid IS NOT NULL GROUP BY card_id) m ON m.id = e.id),
               first_block AS (
                 SELECT e.card_id, e.effective FROM card_events e
                 JOIN (SELECT card_id, min(id) AS id FROM card_events WHERE state = 'blocked' GROUP BY card_id) m ON m.id = e.id)
               SELECT c.number, c.category, substr(c.valid_from, 1, 10), substr(c.valid_to, 1, 10),
                      substr(p.death_date, 1, 10), upper(u.uid), b.effective, substr(p.birth_date, 1, 10)
               FROM cards c JOIN people p ON p.id = c.person_id
               LEFT JOIN last_uid u ON u.card_id = c.id
               LEFT JOIN first_block b ON b.card_id = c.id""").fetchall()
        self.served = sorted({(c, int(r)) for c, routes in reg.execute("SELECT carrier, routes FROM vehicles")
                              for r in routes.split(",") if r.strip()})
        self.hours = [(r["route"], minutes(r["start"]) * 60_000 - tol_service, minutes(r["end"]) * 60_000 + tol_service)
                      for r in fl.get("routes", [])]
        self.batches = [(b, utc_ms(at)) for b, at in reg.execute("SELECT id, stored_at FROM tap_batches")]
        self.docks = [(v, n, utc_ms(at)) for v, n, at in reg.execute(
            "SELECT validator, next, started_at FROM dock_sessions WHERE validator IS NOT NULL AND next IS NOT NULL")]

    def bursts(self, adult_ms):
        """Rule 3's stacks as SQL both DuckDB and Spark run: of the burst
        `windows` (validator_id, seq, t, card_number), the runs each within
        `burst_gap_s` of the tap before, of `burst_cards` taps at least, at
        gaps as even as one hand's (n Σg² − (Σg)² ≤ (pct/100)² (Σg)², in
        38-digit decimals), under half of them by holders under 18
        (`adult_ms`: the `cards` column of the holder's 18th birthday), at
        least `burst_stack_share_pct` % on stack cards."""
        big = "DECIMAL(38, 0)"
        return f"""WITH runs AS (
            SELECT *, sum(CASE WHEN prev_t IS NULL OR t - prev_t > {self.gap_ms} THEN 1 ELSE 0 END)
                        OVER (PARTITION BY validator_id ORDER BY seq
                              ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS run,
                      CASE WHEN prev_t IS NOT NULL AND t - prev_t <= {self.gap_ms} THEN t - prev_t END AS g
            FROM (SELECT *, lag(t) OVER (PARTITION BY validator_id ORDER BY seq) AS prev_t FROM windows) x),
          totals AS (SELECT card_number, count(*) AS total FROM taps WHERE NOT ctx
                     AND card_number IN (SELECT card_number FROM windows) GROUP BY card_number),
          counted AS (
            SELECT runs.*, coalesce(totals.total, 0) AS total,
                   count(*) OVER (PARTITION BY runs.validator_id, runs.card_number) AS here,
                   CASE WHEN k.{adult_ms} IS NOT NULL AND runs.t < k.{adult_ms} THEN 1 ELSE 0 END AS child
            FROM runs LEFT JOIN totals ON totals.card_number = runs.card_number
            LEFT JOIN cards k ON k.card_number = runs.card_number),
          judged AS (
            SELECT *, sum(CASE WHEN total >= {self.card_min} AND here * 100 >= total * {self.card_share} THEN 1 ELSE 0 END)
                        OVER (PARTITION BY validator_id, run) AS stacked,
                      count(*) OVER (PARTITION BY validator_id, run) AS run_n,
                      sum(child) OVER (PARTITION BY validator_id, run) AS children,
                      CAST(sum(g) OVER (PARTITION BY validator_id, run) AS {big}) AS s1,
                      CAST(sum(CAST(g AS {big}) * g) OVER (PARTITION BY validator_id, run) AS {big}) AS s2
            FROM counted)
          SELECT validator_id, seq, t FROM judged
          WHERE run_n >= {self.k} AND children * 2 < run_n AND stacked * 100 >= run_n * {self.stack_share}
            AND CAST(10000 AS {big}) * ((run_n - 1) * s2 - s1 * s1) <= CAST({self.even_pct * self.even_pct} AS {big}) * s1 * s1"""

    def local(self, t="t"):
        """The Kyiv wall-clock milliseconds of `t`, as SQL."""
        return f"({t} + CASE WHEN {t} >= {self.switch} THEN {self.after} ELSE {self.before} END)"

    def rowwise(self):
        """The row-wise rules as SQL both DuckDB and Spark run as written:
        one row per (tap, rule) hit, over the `trusted` taps and the
        `cards`, `served` and `hours` tables; hash joins, no order."""
        local, open_ms, close_ms = self.local(), self.open_ms, self.close_ms
        return f"""SELECT validator_id, seq, t, rule FROM (
            SELECT tp.validator_id, tp.seq, tp.t,
              CASE WHEN c.valid_from_ms IS NULL THEN 'card_unknown' END AS r1,
              CASE WHEN tp.t >= c.blocked_ms THEN 'card_blocked' END AS r2,
              CASE WHEN tp.t >= c.valid_until_ms OR tp.t < c.valid_from_ms THEN 'card_expired' END AS r3,
              CASE WHEN tp.t >= c.death_ms THEN 'holder_deceased' END AS r4,
              CASE WHEN (CASE WHEN coalesce(h.open_ms, {open_ms}) > coalesce(h.close_ms, {close_ms})
                              THEN {local} % {DAY} < coalesce(h.open_ms, {open_ms}) AND {local} % {DAY} > coalesce(h.close_ms, {close_ms})
                              ELSE {local} % {DAY} < coalesce(h.open_ms, {open_ms}) OR {local} % {DAY} > coalesce(h.close_ms, {close_ms}) END)
                   THEN 'outside_service_hours' END AS r5,
              CASE WHEN tp.carrier_id IS NOT NULL AND s.route IS NULL THEN 'route_not_served' END AS r6,
              CASE WHEN c.reg_uid IS NOT NULL AND tp.card_uid <> c.reg_uid THEN 'cloned_uid' END AS r7
            FROM trusted tp
            LEFT JOIN cards c ON c.card_number = tp.card_number
            LEFT JOIN served s ON s.carrier_id = tp.carrier_id AND s.route = tp.route
            LEFT JOIN hours h ON h.route = tp.route
            WHERE NOT tp.ctx) x
          UNPIVOT (rule FOR which IN (r1, r2, r3, r4, r5, r6, r7))"""
