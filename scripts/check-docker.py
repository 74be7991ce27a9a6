#!/usr/bin/env python3
"""Static checks of Dockerfile and docker-compose.yaml (no Docker engine runs
on the project's machines, so this is how they are verified).

usage: check-docker.py ROOT TOPSONGS_BIN

The compose file must parse; name the expected services; run only topsongs
commands that exist; set only TOPSONGS_* variables of the configuration
table; interpolate only those or the compose-only variables documented in
.env.example; publish and probe the ports the configuration gives each role;
declare every volume it mounts; health-check every long-running service that
others wait for. The Dockerfile is parsed and linted with a few rules in the
spirit of hadolint (not available from the package registries here).
Prints one line per problem and exits 1 if there is any.
"""
import os
import re
import subprocess
import sys

import yaml

ROOT, BIN = sys.argv[1], sys.argv[2]
problems = []


def problem(msg):
    problems.append(msg)


def config_env_names():
    ref = subprocess.run([BIN, "config", "--reference"], capture_output=True, text=True,
                         check=True, env={"PATH": "/usr/bin:/bin", "TOPSONGS_ENV_FILE": "/dev/null"}).stdout
    names = set(re.findall(r"`(TOPSONGS_[A-Z0-9_]+)`", ref))
    if len(names) < 10:
        raise SystemExit("cannot read the configuration table from topsongs config --reference")
    return names


def compose_only_names():
    text = open(f"{ROOT}/.env.example").read()
    section = text.split("docker compose only", 1)
    if len(section) != 2:
        raise SystemExit(".env.example has no 'docker compose only' section")
    return set(re.findall(r"^#([A-Z][A-Z0-9_]*)=", section[1], re.M))


def topsongs_commands():
    out = subprocess.run([BIN, "help"], capture_output=True, text=True, check=True).stdout
    return set(re.findall(r"^  ([a-z]+)\s", out, re.M))


def walk_strings(node):
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for k, v in node.items():
            yield from walk_strings(k)
            yield from walk_strings(v)
    elif isinstance(node, list):
        for v in node:
            yield from walk_strings(v)


def has_healthcheck(svc):
    hc = svc.get("healthcheck")
    return isinstance(hc, dict) and not hc.get("disable") and bool(hc.get("test"))


def listen_port(value):
    m = re.fullmatch(r".*:(\d+)", str(value))
    return int(m.group(1)) if m else None


def check_compose(env_names, compose_names, commands):
    path = f"{ROOT}/docker-compose.yaml"
    doc = yaml.safe_load(open(path))
    services = doc.get("services") or {}
    want = {"kafka", "minio", "minio-setup", "postgres", "catalog", "api", "ingest", "scheduler",
            "simulator"}
    if set(services) != want:
        problem(f"compose: services {sorted(services)}, expected {sorted(want)}")
    for key in doc:
        if key not in ("name", "services", "volumes", "networks") and not key.startswith("x-"):
            problem(f"compose: unexpected top-level key {key}")

    # Interpolated variables: ${NAME}, ${NAME:-default}, $NAME.
    for s in walk_strings(doc):
        for name in re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)", s):
            if name not in env_names and name not in compose_names:
                problem(f"compose: ${{{name}}} is neither a configuration variable nor a "
                        f"compose-only variable of .env.example")

    declared = set((doc.get("volumes") or {}).keys())
    used = set()
    for name, svc in services.items():
        env = svc.get("environment") or {}
        if isinstance(env, list):
            env = dict(e.split("=", 1) for e in env)
        image = str(svc.get("image", ""))
        ours = image.startswith("topsongs") or "build" in svc
        for var in env:
            if var.startswith("TOPSONGS_") and var not in env_names:
                problem(f"compose: {name}: {var} is not in the configuration table")
            if ours and not var.startswith("TOPSONGS_"):
                problem(f"compose: {name}: {var} is not a topsongs variable")
        if ours:
            cmd = svc.get("command") or []
            if not cmd or cmd[0] not in commands:
                problem(f"compose: {name}: command {cmd} is not a topsongs command {sorted(commands)}")
            files = svc.get("env_file") or []
            paths = [f if isinstance(f, str) else f.get("path") for f in files]
            if ".env" not in paths:
                problem(f"compose: {name}: configuration does not come from .env")
        elif ":" not in image or image.endswith(":"):
            problem(f"compose: {name}: image {image!r} has no tag")
        for v in svc.get("volumes") or []:
            src = (v.split(":", 1)[0] if isinstance(v, str) else v.get("source", ""))
            if src and not src.startswith((".", "/")):
                used.add(src)
                if src not in declared:
                    problem(f"compose: {name}: volume {src} is not declared")
        for dep, cond in (svc.get("depends_on") or {}).items():
            if dep not in services:
                problem(f"compose: {name} depends on unknown service {dep}")
            c = cond.get("condition") if isinstance(cond, dict) else None
            if c == "service_healthy" and not has_healthcheck(services.get(dep, {})):
                problem(f"compose: {name} waits for {dep} to be healthy, which has no healthcheck")
        long_running = name not in ("minio-setup", "catalog", "simulator")
        if long_running and not has_healthcheck(svc):
            problem(f"compose: {name} has no healthcheck")
        if long_running and svc.get("restart") not in ("always", "unless-stopped", "on-failure"):
            problem(f"compose: {name} has no restart policy")
        # The ports a role listens on come from the configuration.
        probe = " ".join(map(str, (svc.get("healthcheck") or {}).get("test") or []))
        for var, what in (("TOPSONGS_API_LISTEN", "api"), ("TOPSONGS_INGEST_METRICS_LISTEN", "metrics")):
            if var in env:
                port = listen_port(env[var])
                if not str(env[var]).startswith("0.0.0.0:"):
                    problem(f"compose: {name}: {var} must listen on 0.0.0.0 in a container")
                if f"127.0.0.1:{port}/" not in probe:
                    problem(f"compose: {name}: healthcheck does not probe the {what} port {port}")
                for p in svc.get("ports") or []:
                    if int(str(p).rsplit(":", 1)[-1]) != port:
                        problem(f"compose: {name}: publishes {p}, but listens on {port}")
        if name == "api" and "TOPSONGS_API_LISTEN" not in env:
            problem("compose: api does not set TOPSONGS_API_LISTEN")
    for v in declared - used:
        problem(f"compose: volume {v} is declared but never mounted")


def dockerfile_instructions(path):
    """(line number, INSTRUCTION, arguments) with continuations joined."""
    out, buf, start = [], "", 0
    for no, line in enumerate(open(path), 1):
        s = line.rstrip("\n")
        if not buf and (not s.strip() or s.lstrip().startswith("#")):
            continue
        if buf and s.lstrip().startswith("#"):
            continue
        if not buf:
            start = no
        if s.endswith("\\"):
            buf += s[:-1] + " "
            continue
        buf += s
        word, _, args = buf.strip().partition(" ")
        out.append((start, word.upper(), args.strip()))
        buf = ""
    if buf:
        problem("Dockerfile: ends inside a continued line")
    return out


def check_dockerfile(commands):
    path = f"{ROOT}/Dockerfile"
    known = {"FROM", "RUN", "COPY", "ADD", "WORKDIR", "ENV", "ARG", "USER", "EXPOSE",
             "ENTRYPOINT", "CMD", "LABEL", "HEALTHCHECK", "VOLUME", "STOPSIGNAL", "SHELL"}
    stages, current, last = [], None, {}
    for no, word, args in dockerfile_instructions(path):
        where = f"Dockerfile:{no}"
        if word not in known:
            problem(f"{where}: unknown instruction {word}")
        if word == "FROM":
            m = re.fullmatch(r"(\S+)(?:\s+AS\s+(\S+))?", args, re.I)
            if not m:
                problem(f"{where}: cannot parse FROM {args}")
                continue
            image, current = m.group(1), m.group(2)
            if image in stages:
                pass
            elif ":" not in image or image.endswith(":latest"):
                problem(f"{where}: base image {image} is not pinned to a tag (DL3006/DL3007)")
            stages.append(current)
            last[current] = []
        elif current is None:
            problem(f"{where}: {word} before the first FROM")
            continue
        else:
            last[current].append((word, args))
        if word == "RUN" and "apt-get install" in args:
            if "--no-install-recommends" not in args:
                problem(f"{where}: apt-get install without --no-install-recommends (DL3015)")
            if "-y" not in args.split():
                problem(f"{where}: apt-get install without -y (DL3014)")
            if "rm -rf /var/lib/apt/lists" not in args:
                problem(f"{where}: apt lists not removed in the same layer (DL3009)")
        if word == "RUN" and re.search(r"(^|\s)cd\s", args):
            problem(f"{where}: use WORKDIR instead of cd (DL3003)")
        if word == "WORKDIR" and not args.startswith("/"):
            problem(f"{where}: WORKDIR must be absolute (DL3000)")
        if word == "ADD":
            problem(f"{where}: use COPY instead of ADD for files (DL3020)")
        if word == "COPY":
            m = re.match(r"--from=(\S+)\s+(.*)", args)
            if m:
                if m.group(1) not in stages[:-1]:
                    problem(f"{where}: COPY --from={m.group(1)} names no earlier stage")
            else:
                for src in args.split()[:-1]:
                    if not os.path.exists(f"{ROOT}/{src}"):
                        problem(f"{where}: COPY source {src} does not exist")
    for no, word, args in dockerfile_instructions(path):
        if word == "ENV":
            for name in re.findall(r"(?:^|\s)([A-Za-z_][A-Za-z0-9_]*)=", args):
                if name.startswith("TOPSONGS_") and name not in ENV_NAMES:
                    problem(f"Dockerfile:{no}: {name} is not in the configuration table")
    if not stages or len(stages) < 2:
        problem("Dockerfile: not a multi-stage build")
        return
    final = last[stages[-1]]
    users = [a for w, a in final if w == "USER"]
    if not users or users[-1] in ("root", "0"):
        problem("Dockerfile: the runtime stage runs as root (DL3002)")
    entry = [a for w, a in final if w == "ENTRYPOINT"]
    if not entry or "topsongs" not in entry[-1]:
        problem("Dockerfile: the runtime stage's ENTRYPOINT is not topsongs")
    cmd = [a for w, a in final if w == "CMD"]
    if cmd:
        first = yaml.safe_load(cmd[-1])[0]
        if first not in commands:
            problem(f"Dockerfile: CMD {first} is not a topsongs command")
    exposed = " ".join(a for w, a in final if w == "EXPOSE").split()
    for port in ("8080", "8081"):
        if port not in exposed:
            problem(f"Dockerfile: port {port} not exposed")
    # The build stage installs the -dev package of every library the
    # Makefile links, and the runtime stage a runtime package for each.
    make = open(f"{ROOT}/Makefile").read()
    pcs = re.search(r"^LIBS_PC := (.*)$", make, re.M).group(1).split()
    dev = {"libmicrohttpd": "libmicrohttpd-dev", "rdkafka": "librdkafka-dev",
           "jansson": "libjansson-dev", "libpq": "libpq-dev", "libcurl": "libcurl4-openssl-dev",
           "libzstd": "libzstd-dev", "zlib": "zlib1g-dev", "libcrypto": "libssl-dev"}
    run = {"libmicrohttpd": "libmicrohttpd12", "rdkafka": "librdkafka1", "jansson": "libjansson4",
           "libpq": "libpq5", "libcurl": "libcurl4", "libzstd": "libzstd1", "zlib": "zlib1g",
           "libcrypto": "libssl3"}
    build_runs = " ".join(a for s in stages[:-1] for w, a in last[s] if w == "RUN")
    final_runs = " ".join(a for w, a in final if w == "RUN")
    for pc in pcs:
        if pc not in dev:
            problem(f"Dockerfile check: no Debian package known for {pc}; update check-docker.py")
            continue
        if dev[pc] not in build_runs.split():
            problem(f"Dockerfile: build stage does not install {dev[pc]} (Makefile links {pc})")
        if run[pc] not in final_runs.split():
            problem(f"Dockerfile: runtime stage does not install {run[pc]} (Makefile links {pc})")
    for pkg, stage_runs in (("libsnappy-dev", build_runs), ("libsnappy1v5", final_runs)):
        if pkg not in stage_runs.split():
            problem(f"Dockerfile: {pkg} missing (the Makefile links -lsnappy)")


ENV_NAMES = set()


def main():
    env_names = config_env_names()
    ENV_NAMES.update(env_names)
    compose_names = compose_only_names()
    overlap = {n for n in compose_names if n.startswith("TOPSONGS_")}
    if overlap:
        problem(f".env.example: compose-only variables must not use the TOPSONGS_ prefix: {overlap}")
    commands = topsongs_commands()
    check_compose(env_names, compose_names, commands)
    check_dockerfile(commands)
    for p in problems:
        print(p)
    print(f"{len(problems)} problems" if problems else "docker files: ok")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
