#!/usr/bin/env python3
"""A month's compensation totals on Spark SQL, over the same Hive-partitioned
tap store and the same flags file kartka reads: the step past one machine.

    spark-month.py HOME MONTH [--compare COMPENSATION.json] [--json]

Runs Spark (pyspark, local[*]: the same SQL runs unchanged on a cluster
reading the store from shared storage) over the month's live Parquet files
(HOME/taps/month=M/, the files the registry lists), the latest flags file
(HOME/flags/month=M/flags.parquet: the rules that hold by
src/flags/severity.csv, less those cleared, plus those an analyst held,
the latest decision counting)
and the registry's cards; counts the accepted trips per (carrier, route,
tariff zone, Kyiv day, community, held) in one aggregation and prices each
(route, carrier, zone, day) with the tariff rule of src/tariff.rs (the most
specific entry in force that covers it, the latest of those). With
--compare (the output of `kartka --json compensation`), checks that the
accepted taps, the paid and held trips and kopecks, each carrier's and each
community's equal kartka's, and exits 1 when they differ.
"""
import json, os, sqlite3, sys, time, tomllib
from datetime import date

from flag_common import HOLD_RULES


def tariffs(home):
    with open(os.path.join(home, "kartka.toml"), "rb") as f:
        config = tomllib.load(f)
    out = []
    for t in config.get("tariffs", []):
        out.append({
            "from": t["from"] if isinstance(t["from"], date) else date.fromisoformat(str(t["from"])),
            "fare": int(t["fare_kopecks"]),
            "routes": t.get("routes", []), "carriers": t.get("carriers", []),
            "zones": t.get("zones", []),
        })
    return out


def price(entries, route, carrier, zone, day):
    """src/tariff.rs `price`: None when no entry is in force."""
    def within(lst, v):
        return not lst or (v is not None and v in lst)
    best = None
    for t in entries:
        if t["from"] <= day and within(t["routes"], route) and within(t["carriers"], carrier) \
                and within(t["zones"], zone):
            spec = (bool(t["routes"]) << 2) | (bool(t["carriers"]) << 1) | bool(t["zones"])
            key = (spec, t["from"])
            if best is None or key >= best[0]:  # max_by_key keeps the last of equals
                best = (key, t["fare"])
    return None if best is None else best[1]


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    home, month = argv[1], argv[2]
    compare = argv[argv.index("--compare") + 1] if "--compare" in argv else None
    started = time.time()
    reg = sqlite3.connect(f"file:{os.path.join(home, 'registry.sqlite')}?mode=ro", uri=True)
    files = [os.path.join(home, p) for (p,) in reg.execute(
        "SELECT path FROM tap_files WHERE replaced_at IS NULL AND month = ? ORDER BY id", (month,))]
    if not files:
        print(f"error: no tap files for {month} in {home}; store the month first", file=sys.stderr)
        return 1
    cards = reg.execute("SELECT number, category, community FROM cards").fetchall()
    # The analysts' latest decision on each tap's rule: held or cleared.
    decided = {}
    for v, s, rules, decision in reg.execute(
            "SELECT validator, seq, rules, decision FROM flag_clearings ORDER BY id"):
        for r in rules.split(","):
            if r:
                decided[(v, s, r)] = decision == "hold"

    from pyspark.sql import SparkSession
    from pyspark.sql.types import BooleanType, LongType, StringType, StructField, StructType, IntegerType
    spark = (SparkSession.builder.master(os.environ.get("SPARK_MASTER", "local[*]"))
             .appName("kartka-month").config("spark.sql.session.timeZone", "UTC")
             .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
             .config("spark.driver.memory", os.environ.get("SPARK_DRIVER_MEMORY", "4g"))
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    spark.read.parquet(*files).createOrReplaceTempView("taps")
    flags = os.path.join(home, "flags", f"month={month}", "flags.parquet")
    spark.read.parquet(flags).createOrReplaceTempView("flags")
    spark.createDataFrame(cards, StructType([
        StructField("number", LongType()), StructField("category", StringType()),
        StructField("community", StringType())])).createOrReplaceTempView("cards")
    rows = [(v, s, r, held) for (v, s, r), held in decided.items()]
    spark.createDataFrame(rows, StructType([
        StructField("validator", IntegerType()), StructField("seq", LongType()),
        StructField("rule", StringType()), StructField("held", BooleanType())])).createOrReplaceTempView("decided")
    holding = ",".join(f"'{r}'" for r in HOLD_RULES)
    read_s = time.time() - started

    # The held taps: flagged by a rule that holds and nobody cleared, or
    # held by an analyst. Then one aggregation.
    cube = spark.sql(f"""
        WITH held AS (
            SELECT DISTINCT f.validator_id, f.seq FROM flags f
            LEFT JOIN decided d
              ON d.validator = f.validator_id AND d.seq = f.seq AND d.rule = f.rule
            WHERE coalesce(d.held, f.rule IN ({holding}))
        )
        SELECT t.carrier_id, t.route, t.tariff_zone,
               to_date(from_utc_timestamp(t.tapped_at, 'Europe/Kyiv')) AS day,
               coalesce(c.community, '') AS community,
               h.seq IS NOT NULL AS held, count(*) AS trips
        FROM taps t
        LEFT JOIN held h ON h.validator_id = t.validator_id AND h.seq = t.seq
        LEFT JOIN cards c ON c.number = t.card_number
        WHERE t.result = 'accepted'
        GROUP BY ALL
    """).collect()
    count_s = time.time() - started - read_s
    entries = tariffs(home)
    fares = {}
    out = {"month": month, "accepted": 0, "total_trips": 0, "total_kopecks": 0,
           "held_trips": 0, "held_kopecks": 0, "carriers": {}, "communities": {}}
    unpriced = 0
    for r in cube:
        k = (r.route, r.carrier_id, r.tariff_zone, r.day)
        if k not in fares:
            fares[k] = price(entries, *k)
        fare, n = fares[k], r.trips
        out["accepted"] += n
        if fare is None:
            unpriced += n
            continue
        c = out["carriers"].setdefault(str(r.carrier_id), [0, 0, 0, 0])
        if r.held:
            out["held_trips"] += n
            out["held_kopecks"] += n * fare
            c[2] += n
            c[3] += n * fare
        else:
            out["total_trips"] += n
            out["total_kopecks"] += n * fare
            c[0] += n
            c[1] += n * fare
            m = out["communities"].setdefault(r.community, [0, 0])
            m[0] += n
            m[1] += n * fare
    out["seconds"] = {"read": round(read_s, 2), "count": round(count_s, 2),
                      "total": round(time.time() - started, 2)}
    out["engine"] = f"Spark {spark.version}, {spark.sparkContext.master}"
    spark.stop()
    if unpriced:
        print(f"error: {unpriced} trips no tariff covers; kartka refuses such a month too",
              file=sys.stderr)
        return 1
    if "--json" in argv:
        print(json.dumps(out, ensure_ascii=False))
    if compare:
        with open(compare) as f:
            k = json.load(f)
        diffs = []
        for key in ["accepted", "total_trips", "total_kopecks", "held_trips", "held_kopecks"]:
            if k[key] != out[key]:
                diffs.append(f"{key}: kartka {k[key]}, Spark {out[key]}")
        kc = sorted([c["trips"], c["amount_kopecks"], c["held_trips"], c["held_kopecks"]]
                    for c in k["carriers"])
        if kc != sorted(out["carriers"].values()):
            diffs.append(f"carriers: kartka {kc}, Spark {sorted(out['carriers'].values())}")
        for c in k["communities"]:
            got = out["communities"].get(c["code"], [0, 0])
            if [c["trips"], c["amount_kopecks"]] != got:
                diffs.append(f"community {c['code']}: kartka {c['trips']} trips "
                             f"{c['amount_kopecks']} kop., Spark {got[0]} trips {got[1]} kop.")
        if diffs:
            print("Spark and kartka differ:\n  " + "\n  ".join(diffs), file=sys.stderr)
            return 1
        print(f"{month}: Spark and kartka agree: {out['accepted']} accepted taps, "
              f"{out['total_trips']} trips paid ({out['total_kopecks']} kop.), "
              f"{out['held_trips']} held ({out['held_kopecks']} kop.), "
              f"{len(kc)} carriers, {len(k['communities'])} communities "
              f"(Spark {out['seconds']['total']} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
