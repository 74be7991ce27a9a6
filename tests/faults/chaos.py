# The chaos driver of the fault-injection suite (tests/faults/run.sh).
#
#   chaos.py CONFIG.json
#
# Starts the pipeline's processes (api, ingest, scheduler) and supervises
# them as `topsongs up` would: a child that exits by itself is restarted
# after a second and reported. Meanwhile, for at most `seconds` and at most
# `max_faults` faults, it injects one fault at a time at seeded random
# moments: SIGKILL of api, ingest or scheduler (restarted after a random
# pause), a restart of the Kafka broker, of PostgreSQL, and a stop of MinIO
# for a few seconds. Kinds are drawn as shuffled rounds, so every kind
# occurs once before any occurs twice. Then it writes `summary` (JSON:
# faults per kind, unexpected exits, crashes) and keeps supervising until
# SIGTERM, when it stops its children (SIGTERM, then SIGKILL) by PID.
#
# It only ever signals PIDs it started; services are stopped and started
# through scripts/{kafka,pg,minio}.sh, which also go by PID file.
import json, os, random, signal, subprocess, sys, time

cfg = json.load(open(sys.argv[1]))
rnd = random.Random(cfg["seed"])
root, state = cfg["root"], cfg["state"]
t0 = time.monotonic()
stopping = False
KINDS = ["kill-api", "kill-ingest", "kill-scheduler", "restart-kafka", "restart-postgres",
         "restart-minio"]
faults = {k: 0 for k in KINDS}
self_exits, crashes, service_errors = [], [], []


def log(msg):
    print(f"chaos: t={time.monotonic() - t0:7.1f}s {msg}", flush=True)


def on_term(_sig, _frm):
    global stopping
    stopping = True


signal.signal(signal.SIGTERM, on_term)
signal.signal(signal.SIGINT, on_term)


class Child:
    def __init__(self, name, args):
        self.name, self.args, self.proc, self.killed_by_us = name, args, None, False
        self.logf = open(os.path.join(state, "logs", name + ".log"), "ab")

    def start(self):
        self.proc = subprocess.Popen([cfg["bin"]] + self.args, stdout=self.logf,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.killed_by_us = False
        with open(os.path.join(state, "pids", self.name), "w") as f:
            f.write(str(self.proc.pid))
        log(f"started {self.name} pid {self.proc.pid}")

    def check(self):
        """Restarts a child that exited without our SIGKILL; reports how."""
        rc = self.proc.poll()
        if rc is None or self.killed_by_us:
            return
        what = f"{self.name} exited by itself with {rc}"
        if rc < 0 and -rc not in (signal.SIGTERM, signal.SIGKILL):
            crashes.append(what)  # SIGSEGV, SIGABRT (sanitizers): a bug
        else:
            self_exits.append(what)
        log(what + "; restarting in 1 s")
        time.sleep(1)
        self.start()

    def kill(self):
        self.killed_by_us = True
        self.proc.kill()
        self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                rc = self.proc.wait(timeout=cfg.get("stop_timeout", 20))
            except subprocess.TimeoutExpired:
                rc = "a timeout"
                self.proc.kill()
                self.proc.wait()
            # An orderly stop exits 0; anything else (a sanitizer's report,
            # a hang) is a finding.
            if rc != 0:
                crashes.append(f"{self.name} answered SIGTERM with {rc}")
            log(f"{self.name} stopped: {rc}")
        try:
            os.unlink(os.path.join(state, "pids", self.name))
        except FileNotFoundError:
            pass


children = {name: Child(name, args) for name, args in cfg["children"].items()}


def supervise(seconds):
    """Sleeps `seconds`, restarting children that died by themselves."""
    end = time.monotonic() + seconds
    while not stopping and time.monotonic() < end:
        for c in children.values():
            c.check()
        time.sleep(min(0.2, max(0.0, end - time.monotonic())))


def service(script, action, *args):
    cmd = [os.path.join(root, "scripts", script), action] + list(args)
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        service_errors.append(f"{script} {action}: {r.stderr.strip()[-300:]}")
        log(f"{script} {action} FAILED: {r.stderr.strip()[-300:]}")
    return r.returncode == 0


def restart_service(script, sdir, port, pause):
    service(script, "stop", sdir)
    supervise(pause)
    for _ in range(5):  # a port in TIME_WAIT or a slow JVM: try again
        if service(script, "start", sdir, str(port)):
            return
        supervise(2)


def inject(kind):
    faults[kind] += 1
    if kind.startswith("kill-"):
        c = children[kind[5:]]
        pause = rnd.uniform(0.2, 3.0)
        log(f"{kind}: SIGKILL pid {c.proc.pid}, restart in {pause:.1f} s")
        c.kill()
        supervise(pause)
        c.start()
        return
    svc = cfg["services"][kind[8:]]
    pause = rnd.uniform(0.5, 4.0)
    log(f"{kind}: stop, {pause:.1f} s down, start")
    restart_service(svc["script"], svc["dir"], svc["port"], pause)
    log(f"{kind}: back")


def write_summary(done):
    with open(cfg["summary"] + ".tmp", "w") as f:
        json.dump({"faults": faults, "total": sum(faults.values()), "self_exits": self_exits,
                   "crashes": crashes, "service_errors": service_errors, "done": done,
                   "chaos_seconds": round(time.monotonic() - t0, 1)}, f, indent=1)
    os.replace(cfg["summary"] + ".tmp", cfg["summary"])


def main():
    os.makedirs(os.path.join(state, "pids"), exist_ok=True)
    for c in children.values():
        c.start()
    supervise(cfg.get("warmup", 3))
    deadline = t0 + cfg["seconds"]
    plan = []
    while not stopping and time.monotonic() < deadline and sum(faults.values()) < cfg["max_faults"]:
        supervise(rnd.uniform(cfg["min_gap"], cfg["max_gap"]))
        if stopping or time.monotonic() >= deadline:
            break
        if not plan:
            plan = KINDS[:]
            rnd.shuffle(plan)
        inject(plan.pop())
        write_summary(False)
    log(f"chaos over: {sum(faults.values())} faults {faults}")
    write_summary(True)
    while not stopping:  # the drain phase: keep the pipeline up
        supervise(0.5)
    for c in children.values():
        c.stop()
    write_summary(True)
    log("children stopped")


main()
