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
        self.daily_habit_pct = fl.get("daily_habit_pct", 150)
        companion_extra = fl.get("companion_daily_extra", 3)
        companions = {c["code"] for c in config.get("categories", []) if c.get("companion")}
        # Each category's taps a day before the card's own habit is asked.
        self.day_limits = [(c, self.daily_max + companion_extra) for c in sorted(companions)]
        self.hub_cards = fl.get("hub_cards", 10)
        self.hub_days = fl.get("hub_days", 5)
        self.hub_regulars = fl.get("hub_regulars", 3)
        self.hub_floor_pct = fl.get("hub_floor_pct", 5)
        self.breakdown_cards = fl.get("breakdown_cards", 5)
        # [[flags.transfers]]: every ordered pair of a hub's routes, its
        # longest change (the largest of the entries naming it).
        known = {}
        for tr in fl.get("transfers", []):
            for a in tr["routes"]:
                for b in tr["routes"]:
                    if a != b:
                        known[(a, b)] = max(known.get((a, b), 0), tr["max_change_s"] * 1000)
        reg = sqlite3.connect(os.path.join(home, "registry.sqlite"))
        # The analysts' remembered decisions in force (src/flags/decisions.rs):
        # a hub allows any quick change; a route's hours unless configured.
        decided = reg.execute(
            "SELECT kind, route_a, route_b, start, \"end\" FROM flag_decisions WHERE until >= ? ORDER BY id",
            (month,)).fetchall() if reg.execute(
            "SELECT 1 FROM sqlite_master WHERE name = 'flag_decisions'").fetchone() else []
        routes = list(fl.get("routes", []))
        for kind, a, b, start, end in decided:
            if kind == "hub" and a != b:
                for x, y in ((a, b), (b, a)):
                    known[(x, y)] = max(known.get((x, y), 0), self.transfer_ms)
            elif kind == "route_hours" and not any(r["route"] == a for r in routes):
                routes.append({"route": a, "start": start, "end": end})
        self.known = sorted((a, b, ms) for (a, b), ms in known.items())
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
        self.days = (self.end - self.start + DAY // 2) // DAY
        prev = (first - timedelta(days=1)).strftime("%Y-%m")
        self.ctx_ms = max(self.repeat_ms, self.transfer_ms, self.window_ms, self.tol)

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
                      for r in routes]
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

    def excessive(self, mm="mm"):
        """Rule 4 as SQL both engines run: the (card_number, day) pairs of
        the month's counted taps `mm` (with the `cards` table's day_limit)
        above the card's allowance and above daily_habit_pct of its habit,
        the most taps it made on at least half the month's days."""
        half = max(1, (self.days + 1) // 2)
        return f"""SELECT p.card_number, p.day FROM
              (SELECT card_number, day, count(*) AS n FROM {mm} GROUP BY card_number, day) p
            LEFT JOIN (SELECT card_number, n AS habit FROM (
                SELECT card_number, n, row_number() OVER (PARTITION BY card_number ORDER BY n DESC) AS rk
                FROM (SELECT card_number, day, count(*) AS n FROM {mm} GROUP BY card_number, day) d) r
              WHERE rk = {half}) h ON h.card_number = p.card_number
            LEFT JOIN cards k ON k.card_number = p.card_number
            WHERE p.n > coalesce(k.day_limit, {self.daily_max})
              AND p.n * 100 > coalesce(h.habit, 0) * {self.daily_habit_pct}"""

    def impossible_travel(self):
        """Rule 2 in the month's network (src/flags/network.rs) as SQL both
        engines run: the quick changes of the pass C table `c` (pt, pv, pr:
        the card's previous tap's time, vehicle, route; pt2, pv2 the one
        before; nt, nv the next) that no hub, `known` transfer or breakdown
        explains."""
        tr, rep2, w = self.transfer_ms, 2 * self.repeat_ms, 30 * 60_000
        pct = self.hub_floor_pct
        return f"""WITH q AS (
            SELECT validator_id, seq, t, card_number, day, pr AS from_r, route AS to_r,
              pv AS from_v, vehicle_id AS to_v, t - pt AS gap,
              coalesce(pv2 = vehicle_id AND pv <> vehicle_id AND pv2 <> pv AND pt - pt2 < {tr}
                       AND t - pt2 < {rep2}, false)
              OR coalesce(nv = pv AND nv <> vehicle_id AND nt - pt < {rep2}, false) AS alt
            FROM c WHERE pv <> vehicle_id AND t - pt < {tr} AND NOT ctx),
          nalt AS (SELECT * FROM q WHERE NOT alt),
          card_days AS (SELECT from_r, to_r, card_number, count(DISTINCT day) AS d FROM nalt
                        GROUP BY from_r, to_r, card_number),
          pair_cards AS (SELECT from_r, to_r, count(*) AS cards, sum(CASE WHEN d >= 2 THEN 1 ELSE 0 END) AS regulars
                         FROM card_days GROUP BY from_r, to_r),
          pair_days AS (SELECT from_r, to_r, count(DISTINCT day) AS days FROM nalt GROUP BY from_r, to_r),
          ranked AS (SELECT from_r, to_r, gap, row_number() OVER (PARTITION BY from_r, to_r ORDER BY gap) AS rn,
                       count(*) OVER (PARTITION BY from_r, to_r) AS n FROM nalt),
          floors AS (SELECT from_r, to_r, gap AS g FROM ranked
                     WHERE (rn - 1) * 100 <= n * {pct} AND n * {pct} < rn * 100),
          brk AS (SELECT a.validator_id, a.seq FROM nalt a JOIN nalt b
                    ON a.from_v = b.from_v AND a.to_v = b.to_v AND b.t BETWEEN a.t - {w} AND a.t + {w}
                  GROUP BY a.validator_id, a.seq HAVING count(DISTINCT b.card_number) >= {self.breakdown_cards}),
          explained AS (
            SELECT q.validator_id, q.seq FROM q
            LEFT JOIN pair_cards pc ON pc.from_r = q.from_r AND pc.to_r = q.to_r
            LEFT JOIN pair_days pd ON pd.from_r = q.from_r AND pd.to_r = q.to_r
            LEFT JOIN floors f ON f.from_r = q.from_r AND f.to_r = q.to_r
            LEFT JOIN known k ON k.from_r = q.from_r AND k.to_r = q.to_r
            LEFT JOIN card_days cd ON cd.from_r = q.from_r AND cd.to_r = q.to_r AND cd.card_number = q.card_number
            LEFT JOIN brk b ON b.validator_id = q.validator_id AND b.seq = q.seq
            WHERE NOT q.alt AND (
              (2 * q.gap + 2 > coalesce(f.g, 0)
               AND (coalesce(pc.cards >= {self.hub_cards} AND pd.days >= {self.hub_days}
                             AND pc.regulars >= {self.hub_regulars} AND cd.d >= 2, false)
                    OR coalesce(q.gap <= k.ms, false)))
              OR b.seq IS NOT NULL))
          SELECT q.validator_id, q.seq, q.t FROM q
          LEFT JOIN explained e ON e.validator_id = q.validator_id AND e.seq = q.seq
          WHERE e.seq IS NULL"""
