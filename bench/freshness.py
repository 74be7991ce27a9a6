"""Freshness probe of bench/freshness.sh: POST /play -> the play counted in
GET /api/top.

Posts one play of song PROBE to region ZZ every INTERVAL seconds (region ZZ
carries only these plays, so its live hourly chart is this song alone),
all from one listener: the api keys records by user_id, so the probes stay
in order on one Kafka partition and the flows count them in order. A
poller reads the chart of each probe's hour every POLL seconds; when the
song's count there reaches n, the first n probes of that hour are counted,
and each one's freshness is that instant minus the instant its POST was
sent. The answer cache of the api (1 s for a live chart) is part of what is
measured, as a dashboard sees it.

Usage: freshness.py API_URL PROBES INTERVAL OUT_JSON
"""

import datetime
import json
import sys
import threading
import time
import urllib.request
import uuid

api, probes, interval, out = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
POLL = 0.05
SONG = "probe-song"
lock = threading.Lock()
sent = []  # (hour key, index within the hour, time sent)
seen = {}  # probe number -> time its count was first seen
per_hour = {}  # hour key -> probes sent into it
done = threading.Event()


def hour_of(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H")


def post(t):
    ts = datetime.datetime.fromtimestamp(t, datetime.timezone.utc).isoformat(timespec="milliseconds")
    body = json.dumps({"event_id": str(uuid.uuid4()), "user_id": "freshness-probe",
                       "song_id": SONG, "region": "ZZ", "ts": ts.replace("+00:00", "Z")})
    req = urllib.request.Request(api + "/play", body.encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        if r.status != 202:
            raise SystemExit(f"POST /play answered {r.status}")


def count(hour):
    with urllib.request.urlopen(f"{api}/api/top?region=ZZ&period=hour&at={hour}", timeout=10) as r:
        chart = json.load(r)
    return sum(e["plays"] for e in chart["entries"] if e["song_id"] == SONG)


def poller():
    while not done.is_set() or len(seen) < len(sent):
        with lock:
            pending = [i for i in range(len(sent)) if i not in seen]
        if not pending:
            time.sleep(POLL)
            continue
        hour = sent[pending[0]][0]
        n = count(hour)
        now = time.time()
        with lock:
            for i in pending:
                if sent[i][0] == hour and sent[i][1] < n:
                    seen[i] = now
        time.sleep(POLL)


def main():
    th = threading.Thread(target=poller, daemon=True)
    th.start()
    start = time.time()
    for k in range(probes):
        time.sleep(max(0.0, start + k * interval - time.time()))
        t = time.time()
        h = hour_of(t)
        with lock:
            sent.append((h, per_hour.get(h, 0), t))
            per_hour[h] = per_hour.get(h, 0) + 1
        post(t)
    done.set()
    th.join(timeout=60)
    lat = sorted(seen[i] - sent[i][2] for i in seen)
    if len(lat) < len(sent):
        print(f"freshness: {len(sent) - len(lat)} of {len(sent)} probes never counted", file=sys.stderr)

    def q(p):
        return lat[min(len(lat) - 1, int(p * len(lat)))] if lat else float("nan")

    with open(out, "w") as f:
        json.dump({"probes": len(sent), "counted": len(lat), "p50": q(0.5), "p90": q(0.9),
                   "p99": q(0.99), "max": lat[-1] if lat else None, "min": lat[0] if lat else None}, f)


main()
