#!/usr/bin/env python3
"""Static checks of the deployment files, run from CTest (deploy.static).

This proves what it can without running Docker or a cluster (deploy.container
runs the containers): every YAML file parses; docker-compose.yml and deploy/k8s/ have the keys a
working deployment needs and their references agree (secrets, volumes,
selectors, probe ports, the HPA's target, kustomization's files); every
`unas` command line in them uses flags that the built binary accepts; the
Dockerfile needs no registry (no `# syntax=` line, every stage FROM an ARG
that defaults to debian:bookworm), builds without BuildKit (no `RUN --mount`),
its build stage runs deploy/install-deps.sh and its final stage runs as a
non-root user; the two .dockerignore files are equal and keep .git, build
trees and secrets out; the compose file has no top-level `name:` (v1 refuses
it), publishes ports on loopback by default and sets a lease timeout. When
`docker-compose` (v1), `docker compose` (v2) or `kubectl` is installed, their
own validation runs too.

Usage: static_check.py REPO_ROOT UNAS_BINARY
Exit: 0 all good, 1 a check failed, 77 PyYAML missing (CTest SKIP).
"""
import os
import re
import shutil
import subprocess
import sys

try:
    import yaml
except ImportError:
    print("SKIP: PyYAML is not installed (Debian: python3-yaml, listed in deploy/install-deps.sh)")
    sys.exit(77)

ROOT, UNAS = sys.argv[1], sys.argv[2]
errors = []

# Flags a manifest may use before the binary in this tree has them, with why
# (command -> set of flag names). None at present.
PENDING_FLAGS = {}


def check(ok, what):
    if ok:
        print("ok:", what)
    else:
        print("FAIL:", what)
        errors.append(what)
    return ok


def load_all(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


_flag_cache = {}


def binary_flags(command):
    if command not in _flag_cache:
        out = subprocess.run([UNAS, command, "--help"], capture_output=True, text=True, timeout=30).stdout
        _flag_cache[command] = set(re.findall(r"--([a-z][a-z0-9-]*)", out))
    return _flag_cache[command]


def check_command_line(argv, where):
    """argv without the leading 'unas' (the image's ENTRYPOINT)."""
    argv = [str(a) for a in argv]
    if not check(bool(argv) and not argv[0].startswith("-"), f"{where}: names a unas command"):
        return
    command = argv[0]
    known = binary_flags(command)
    check(bool(known), f"{where}: 'unas {command} --help' lists flags")
    for a in argv[1:]:
        if not a.startswith("--"):
            continue
        name = a[2:].split("=")[0]
        if name in known:
            continue
        if name in PENDING_FLAGS.get(command, set()):
            print(f"note: {where}: --{name} is not in this build of 'unas {command}' yet (pending)")
            continue
        check(False, f"{where}: 'unas {command}' has no flag --{name}")


# --- docker-compose.yml -------------------------------------------------------
compose_path = os.path.join(ROOT, "docker-compose.yml")
compose = load_all(compose_path)[0]
services = compose.get("services", {})
check({"coordinator", "worker"} <= set(services), "compose: services coordinator and worker")
check("unas_token" in compose.get("secrets", {}), "compose: a top-level secret unas_token")
named_volumes = set(compose.get("volumes", {}) or {})
for name, svc in services.items():
    where = f"compose service {name}"
    check("image" in svc, f"{where}: image")
    check(svc.get("restart") in ("always", "unless-stopped", "on-failure"), f"{where}: a restart policy")
    hc = svc.get("healthcheck", {})
    check(isinstance(hc.get("test"), list) and len(hc["test"]) > 1, f"{where}: a healthcheck test")
    if isinstance(hc.get("test"), list) and hc["test"][:2] == ["CMD", "unas"]:
        check_command_line(hc["test"][2:], f"{where} healthcheck")
    check("unas_token" in (svc.get("secrets") or []), f"{where}: mounts the unas_token secret")
    check_command_line(svc.get("command", []), f"{where} command")
    cmd = [str(a) for a in svc.get("command", [])]
    if "--token-file" in cmd:
        check(cmd[cmd.index("--token-file") + 1] == "/run/secrets/unas_token",
              f"{where}: --token-file is the mounted secret")
    for v in svc.get("volumes", []) or []:
        source = v.split(":")[0] if isinstance(v, str) else v.get("source")
        if not source.startswith((".", "/")):
            check(source in named_volumes, f"{where}: volume {source} is declared at the top level")
check("name" not in compose, "compose: no top-level 'name:' (Debian's docker-compose 1.29 refuses it; use -p)")
check("version" not in compose, "compose: no 'version:' key (the Compose Specification, read by v1.27+ and v2)")


def default_of(text):
    """A string with ${VAR:-default} / ${VAR} references, as Compose reads it with none set."""
    return re.sub(r"\$\{[A-Za-z_][A-Za-z0-9_]*(?::?-([^}]*))?\}", lambda m: m.group(1) or "", str(text))


coord = services.get("coordinator", {})
for p in coord.get("ports", []) or []:
    spec = default_of(p if isinstance(p, str) else f"{p.get('host_ip', '')}:{p.get('published')}:{p.get('target')}")
    check(spec.startswith("127.0.0.1:"), f"compose: coordinator port '{p}' is published on 127.0.0.1 by default")
ccmd = [str(a) for a in coord.get("command", [])]
if check("--lease-timeout-ms" in ccmd and "--heartbeat-ms" in ccmd,
         "compose: the coordinator sets --lease-timeout-ms and --heartbeat-ms"):
    lease_ms = int(ccmd[ccmd.index("--lease-timeout-ms") + 1])
    heartbeat_ms = int(ccmd[ccmd.index("--heartbeat-ms") + 1])
    check(heartbeat_ms * 3 <= lease_ms <= 30000,
          f"compose: lease {lease_ms} ms outlives 3 heartbeats ({heartbeat_ms} ms) and re-queues a dead worker's trial within 30 s")
if "--data-dir" in ccmd:
    data_dir = ccmd[ccmd.index("--data-dir") + 1]
    check(any(isinstance(v, str) and v.split(":")[1] == data_dir and v.split(":")[0] in named_volumes
              for v in coord.get("volumes", [])), "compose: the coordinator's --data-dir is a named volume")
check("build" in coord, "compose: the coordinator service builds the image")
worker = services.get("worker", {})
check("container_name" not in worker and not worker.get("ports"),
      "compose: the worker can be scaled (no container_name, no host ports)")
check(worker.get("depends_on", {}).get("coordinator", {}).get("condition") == "service_healthy",
      "compose: workers wait for a healthy coordinator")

# --- deploy/k8s -------------------------------------------------------------------
k8s_dir = os.path.join(ROOT, "deploy", "k8s")
kustomization = load_all(os.path.join(k8s_dir, "kustomization.yaml"))[0]
docs = []
for res in kustomization.get("resources", []):
    path = os.path.join(k8s_dir, res)
    if check(os.path.isfile(path), f"kustomization: resource {res} exists"):
        docs += load_all(path)
listed = set(kustomization.get("resources", []))
for f in os.listdir(k8s_dir):
    if f.endswith(".yaml") and f != "kustomization.yaml":
        check(f in listed, f"kustomization lists {f}")
secrets = {g["name"] for g in kustomization.get("secretGenerator", [])}
secrets |= {d["metadata"]["name"] for d in docs if d.get("kind") == "Secret"}
check("unas-token" in secrets, "k8s: the token Secret unas-token")
for d in docs:
    check({"apiVersion", "kind", "metadata"} <= set(d), f"k8s {d.get('kind')}: apiVersion, kind, metadata")
by_kind = {}
for d in docs:
    by_kind.setdefault(d["kind"], []).append(d)
check(len(by_kind.get("StatefulSet", [])) == 1, "k8s: one StatefulSet (the coordinator)")
check(len(by_kind.get("Deployment", [])) == 1, "k8s: one Deployment (the workers)")
check(len(by_kind.get("HorizontalPodAutoscaler", [])) == 1, "k8s: a HorizontalPodAutoscaler example")


def check_pod(owner):
    name = owner["metadata"]["name"]
    spec = owner["spec"]
    labels = spec["template"]["metadata"]["labels"]
    check(spec["selector"]["matchLabels"].items() <= labels.items(), f"{name}: selector matches the pod labels")
    pod = spec["template"]["spec"]
    check(pod.get("securityContext", {}).get("runAsNonRoot") is True, f"{name}: runs as non-root")
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    claims = {c["metadata"]["name"] for c in spec.get("volumeClaimTemplates", [])}
    for v in volumes.values():
        if "secret" in v:
            check(v["secret"]["secretName"] in secrets, f"{name}: secret {v['secret']['secretName']} exists")
    for c in pod["containers"]:
        where = f"{name}/{c['name']}"
        res = c.get("resources", {})
        check({"cpu", "memory"} <= set(res.get("requests", {})) and {"cpu", "memory"} <= set(res.get("limits", {})),
              f"{where}: cpu and memory requests and limits")
        for m in c.get("volumeMounts", []):
            check(m["name"] in volumes or m["name"] in claims, f"{where}: volume {m['name']} is defined")
        check_command_line(c.get("args", []), f"{where} args")
        args = [str(a) for a in c.get("args", [])]
        if "--token-file" in args:
            tf = args[args.index("--token-file") + 1]
            check(any(tf.startswith(m["mountPath"] + "/") and "secret" in volumes.get(m["name"], {})
                      for m in c.get("volumeMounts", [])), f"{where}: --token-file lies in a mounted secret")
        ports = {p.get("name") for p in c.get("ports", [])}
        for kind in ("startupProbe", "livenessProbe", "readinessProbe"):
            probe = c.get(kind)
            if not probe:
                continue
            if "httpGet" in probe:
                check(probe["httpGet"]["port"] in ports, f"{where} {kind}: port {probe['httpGet']['port']} is declared")
                check(probe["httpGet"]["path"] in ("/healthz", "/readyz"), f"{where} {kind}: a real health endpoint")
            elif "exec" in probe:
                cmd = probe["exec"]["command"]
                check(cmd[0] == "unas", f"{where} {kind}: runs unas")
                check_command_line(cmd[1:], f"{where} {kind}")
    return pod


for sts in by_kind.get("StatefulSet", []):
    check(sts["spec"].get("replicas") == 1, "coordinator StatefulSet: exactly one replica (one SQLite writer)")
    check(bool(sts["spec"].get("volumeClaimTemplates")), "coordinator StatefulSet: a PersistentVolumeClaim template")
    pod = check_pod(sts)
    c = pod["containers"][0]
    check("livenessProbe" in c and "readinessProbe" in c, "coordinator: liveness and readiness probes")
    args = [str(a) for a in c.get("args", [])]
    data_dir = args[args.index("--data-dir") + 1] if "--data-dir" in args else None
    check(any(m["mountPath"] == data_dir and m["name"] in {t["metadata"]["name"] for t in sts["spec"]["volumeClaimTemplates"]}
              for m in c.get("volumeMounts", [])), "coordinator: --data-dir is the persistent volume")
    services_k8s = [s for s in by_kind.get("Service", []) if s["metadata"]["name"] == sts["spec"].get("serviceName")]
    if check(len(services_k8s) == 1, "coordinator: its serviceName names a Service"):
        svc = services_k8s[0]
        check(svc["spec"]["selector"].items() <= sts["spec"]["template"]["metadata"]["labels"].items(),
              "coordinator Service selects the coordinator pod")
        target_ports = {p["targetPort"] for p in svc["spec"]["ports"]}
        check(target_ports <= {p["name"] for p in c["ports"]}, "coordinator Service: target ports exist")
for dep in by_kind.get("Deployment", []):
    pod = check_pod(dep)
    args = [str(a) for a in pod["containers"][0].get("args", [])]
    coord_addr = args[args.index("--coordinator") + 1] if "--coordinator" in args else ""
    svc_names = {s["metadata"]["name"] for s in by_kind.get("Service", [])}
    check(coord_addr.split(":")[0] in svc_names, f"workers: --coordinator {coord_addr} is the coordinator Service")
for hpa in by_kind.get("HorizontalPodAutoscaler", []):
    ref = hpa["spec"]["scaleTargetRef"]
    check(ref["kind"] == "Deployment" and ref["name"] in {d["metadata"]["name"] for d in by_kind.get("Deployment", [])},
          "HPA: targets the worker Deployment")
    check(hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"], "HPA: minReplicas <= maxReplicas")

# --- deploy/Dockerfile --------------------------------------------------------------
with open(os.path.join(ROOT, "deploy", "Dockerfile")) as f:
    dockerfile = f.read()
stages = re.findall(r"^FROM\s+(\S+)(?:\s+AS\s+(\S+))?", dockerfile, re.M | re.I)
check(len(stages) >= 2, "Dockerfile: multi-stage")
# ARGs before the first FROM, with their defaults expanded in order.
build_args = {}
for name, value in re.findall(r"^ARG\s+([A-Za-z_]+)=(\S+)", dockerfile[:dockerfile.find("\nFROM ")], re.M):
    build_args[name] = re.sub(r"\$\{(\w+)\}", lambda m: build_args.get(m.group(1), ""), value)
resolved_stages = [re.sub(r"\$\{(\w+)\}", lambda m: build_args.get(m.group(1), m.group(0)), image) for image, _ in stages]
check(all(image == "debian:bookworm" for image in resolved_stages),
      f"Dockerfile: every stage starts from debian:bookworm by default ({', '.join(resolved_stages)}), "
      "which deploy/make-base-image.sh makes without a registry")
check(os.path.isfile(os.path.join(ROOT, "deploy", "make-base-image.sh")), "deploy/make-base-image.sh exists")
check(not re.search(r"^#\s*syntax\s*=", dockerfile, re.M | re.I),
      "Dockerfile: no '# syntax=' line (BuildKit would fetch the frontend image from a registry)")
check(not re.search(r"^RUN\s+--", dockerfile, re.M | re.I), "Dockerfile: no RUN flags such as --mount (the classic builder refuses them)")
check("web/node_modules/chart.js" in dockerfile, "Dockerfile: the build stops unless the dashboard's chart.js is in the context")
check("bash /tmp/install-deps.sh" in dockerfile and "COPY deploy/install-deps.sh" in dockerfile,
      "Dockerfile: the build stage installs deploy/install-deps.sh's packages (runs the script)")
final = dockerfile[dockerfile.rfind("\nFROM "):]
users = re.findall(r"^USER\s+(\S+)", final, re.M)
check(bool(users) and users[-1].split(":")[0] not in ("root", "0"), "Dockerfile: the final stage runs as non-root")
check(re.search(r'^ENTRYPOINT \["unas"\]', final, re.M) is not None, "Dockerfile: ENTRYPOINT unas")
check("dataset-fashion-mnist" in final, "Dockerfile: the final stage has Fashion-MNIST for workers")
final_code = "\n".join(line for line in final.splitlines() if not line.lstrip().startswith("#"))
check(not re.search(r"\S-dev\b", final_code), "Dockerfile: no -dev packages in the final stage")
check("unas-torch --version" in final_code,
      "Dockerfile: the final stage has unas-torch beside unas (serve, worker and train exec it) and checks it starts")



# --- .dockerignore --------------------------------------------------------------------
root_ignore = os.path.join(ROOT, ".dockerignore")
if check(os.path.isfile(root_ignore), ".dockerignore at the root (the classic builder and compose v1 read only it)"):
    with open(root_ignore) as f:
        ignore_text = f.read()
    with open(os.path.join(ROOT, "deploy", "Dockerfile.dockerignore")) as f:
        check(f.read() == ignore_text, "deploy/Dockerfile.dockerignore equals .dockerignore")
    patterns = {line.strip() for line in ignore_text.splitlines() if line.strip() and not line.startswith("#")}
    for needed in (".git", "build", "build-*", "deploy/secrets", "deploy/k8s/secrets", "**/*.db"):
        check(needed in patterns, f".dockerignore excludes {needed}")
    check(not any("node_modules" in p and not p.startswith("!") for p in patterns),
          ".dockerignore keeps web/node_modules (the image's chart.js)")


def owning_package(path):
    for candidate in (path, os.path.realpath(path), "/usr" + path if not path.startswith("/usr") else path[4:]):
        r = subprocess.run(["dpkg", "-S", candidate], capture_output=True, text=True)
        if r.returncode == 0:
            return r.stdout.split(":")[0]
    return None


# Every library the two binaries link directly (unas, and unas-torch beside
# it) is owned by a package the final stage installs (libc6 comes with the
# base image).
if shutil.which("readelf") and shutil.which("dpkg") and shutil.which("ldd"):
    runtime_packages = set(re.findall(r"[a-z0-9][a-z0-9.+-]+", final_code.split("apt-get install", 1)[-1]))
    for binary in (UNAS, os.path.join(os.path.dirname(UNAS), "unas-torch")):
        name = os.path.basename(binary)
        if not check(os.path.isfile(binary), f"{name} is built beside unas"):
            continue
        needed = re.findall(r"Shared library: \[(.*?)\]", subprocess.run(["readelf", "-d", binary],
                                                                          capture_output=True, text=True).stdout)
        resolved = dict(re.findall(r"^\s*(\S+) => (\S+)", subprocess.run(["ldd", binary], capture_output=True,
                                                                          text=True).stdout, re.M))
        for lib in needed:
            pkg = owning_package(resolved.get(lib, lib))
            check(pkg == "libc6" or pkg in runtime_packages,
                  f"Dockerfile: the final stage installs {pkg or '?'} (owner of {lib}, linked by {name})")
else:
    print("note: readelf/ldd/dpkg missing; the runtime package list was not checked against the binary")

# --- the tools' own validation, where installed ------------------------------------
env = dict(os.environ, UNAS_TOKEN_FILE=os.path.join(ROOT, "docker-compose.yml"))  # any existing file
if shutil.which("docker-compose"):
    r = subprocess.run(["docker-compose", "-f", compose_path, "config", "-q"], capture_output=True, text=True, env=env,
                       timeout=60)
    check(r.returncode == 0, "docker-compose (v1) config: " + (r.stderr.strip() or "valid"))
else:
    print("note: docker-compose (v1) is not installed; the checks above stand in for 'docker-compose config'")
if shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
    r = subprocess.run(["docker", "compose", "-f", compose_path, "config", "-q"], capture_output=True, text=True, env=env,
                       timeout=60)
    check(r.returncode == 0, "docker compose (v2) config: " + (r.stderr.strip() or "valid"))
else:
    print("note: 'docker compose' (v2) is not available here; the checks above stand in for 'docker compose config'")
if shutil.which("kubectl"):
    # Render a copy with a stand-in token file (the real one never enters git).
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        copy = os.path.join(tmp, "k8s")
        shutil.copytree(k8s_dir, copy, ignore=shutil.ignore_patterns("secrets"))
        os.makedirs(os.path.join(copy, "secrets"))
        with open(os.path.join(copy, "secrets", "token"), "w") as f:
            f.write("static-check-token-0123456789abcdef\n")
        r = subprocess.run(["kubectl", "kustomize", copy], capture_output=True, text=True, timeout=60)
        if check(r.returncode == 0, "kubectl kustomize renders deploy/k8s" + (": " + r.stderr.strip() if r.returncode else "")):
            rendered = [d for d in yaml.safe_load_all(r.stdout) if d]
            kinds = sorted(d["kind"] for d in rendered)
            check(kinds == ["Deployment", "HorizontalPodAutoscaler", "Namespace", "Secret", "Service", "StatefulSet"],
                  f"kubectl kustomize: the rendered kinds ({', '.join(kinds)})")
            check(all(d["metadata"].get("namespace") == "unas" for d in rendered if d["kind"] != "Namespace"),
                  "kubectl kustomize: everything in namespace unas")
            check(any(d["kind"] == "Secret" and d["metadata"]["name"] == "unas-token" for d in rendered),
                  "kubectl kustomize: the Secret is named unas-token (no hash suffix)")
else:
    print("note: kubectl is not installed; the manifests were checked structurally only")

print(f"{len(errors)} failed check(s)" if errors else "PASS: deployment files are consistent")
sys.exit(1 if errors else 0)
