"""The scale-out path as deployed: Debian's nginx, configured exactly as docs/DEPLOYMENT.md says, in front of
several Streamlit processes on loopback, started and stopped by the load benchmark (``--nginx``).

The configuration is read from the guide's ``nginx`` code block, so the benchmark measures the documented
file: only the upstream ``server`` lines and the ``listen`` port are replaced by this run's loopback
addresses, and the block is wrapped in the ``events``/``http`` frame and the paths a throwaway prefix
needs. nginx's access log records each request's route cookie and the process it went to; after the run,
:meth:`Balancer.routes` checks that every route stayed on one process (sticky sessions) and counts how
many sessions each process took.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import urllib.request
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from bench.browser import ROOT, wait_healthy

GUIDE = ROOT / "docs" / "DEPLOYMENT.md"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
INSTALL = "sudo apt-get install -y nginx-light (Debian's nginx; any nginx >= 1.18 with map and hash)"


def documented_config(guide: Path = GUIDE) -> str:
    """The ``nginx`` code block of the deployment guide (the configuration users are told to deploy)."""
    found = re.search(r"```nginx\n(.*?)```", guide.read_text(), flags=re.S)
    if found is None:
        raise RuntimeError(f"no ```nginx block in {guide}")
    return found.group(1)


def config_for(upstreams: list[str], port: int, prefix: Path, guide: Path = GUIDE) -> str:
    """The documented configuration with this run's upstream processes and port, as a complete file."""
    body = documented_config(guide)
    servers = re.findall(r"^(\s*)server \S+:\d+;.*$", body, flags=re.M)
    if not servers:
        raise RuntimeError("the guide's nginx block has no upstream server lines")
    indent = servers[0]
    lines = "\n".join(f"{indent}server {u};" for u in upstreams)
    body = re.sub(r"^\s*server \S+:\d+;.*\n(\s*#.*\n)*", "", body, flags=re.M)
    body = re.sub(r"(upstream lossviz \{\n\s*hash [^\n]*\n)", lambda m: m.group(1) + lines + "\n", body)
    body, listens = re.subn(r"listen \d+;", f"listen 127.0.0.1:{port};", body)
    if listens != 1 or lines not in body:
        raise RuntimeError("the guide's nginx block changed shape: update bench/nginx.py")
    return (f"pid {prefix}/nginx.pid;\nerror_log {prefix}/error.log warn;\nworker_processes 1;\n"
            "events { worker_connections 1024; }\n"
            "http {\n"
            "    log_format route\n"
            "        '$cookie_lossviz_route $lossviz_route $upstream_addr $status $request_uri';\n"
            f"    access_log {prefix}/access.log route;\n"
            + "".join(f"    {t}_temp_path {prefix}/{t};\n"
                      for t in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
            + body + "}\n")


@dataclass
class Balancer:
    """A running nginx: its URL, prefix directory and process."""

    url: str
    prefix: Path
    process: subprocess.Popen

    def routes(self) -> dict:
        """Which process each route cookie reached: ``{"routes": n, "split": [routes seen on several
        processes], "per_process": {address: routes}}``, from the access log (WebSocket and page requests;
        health checks carry no cookie and are left out)."""
        seen: dict[str, set[str]] = defaultdict(set)
        for line in (self.prefix / "access.log").read_text().splitlines():
            parts = line.split()
            if len(parts) >= 5 and parts[4] != "/_stcore/health" and "-" not in parts[1:3]:
                seen[parts[1]].add(parts[2])
        per_process: dict[str, int] = defaultdict(int)
        for addresses in seen.values():
            for address in addresses:
                per_process[address] += 1
        return {"routes": len(seen), "split": sorted(r for r, a in seen.items() if len(a) > 1),
                "per_process": dict(sorted(per_process.items()))}

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        shutil.rmtree(self.prefix, ignore_errors=True)


def start(upstreams: list[str], port: int) -> Balancer:
    """nginx on 127.0.0.1:``port`` in front of ``upstreams`` ("127.0.0.1:8501", ...); returns once it
    answers ``/_stcore/health`` through to a process."""
    if not Path(NGINX).exists():
        raise RuntimeError(f"nginx is not installed: {INSTALL}")
    prefix = Path(tempfile.mkdtemp(prefix="lossviz-nginx-"))
    conf = prefix / "nginx.conf"
    conf.write_text(config_for(upstreams, port, prefix))
    test = subprocess.run([NGINX, "-t", "-p", str(prefix), "-c", str(conf)], capture_output=True, text=True)
    if test.returncode:
        raise RuntimeError(f"nginx refuses the documented configuration: {test.stderr.strip()}")
    process = subprocess.Popen([NGINX, "-p", str(prefix), "-c", str(conf), "-g", "daemon off;"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    balancer = Balancer(f"http://127.0.0.1:{port}", prefix, process)
    if wait_healthy(balancer.url, process, 20,
                    lambda: f"nginx exited: {(prefix / 'error.log').read_text()[-500:]}"):
        return balancer
    balancer.stop()
    raise RuntimeError("nginx did not answer /_stcore/health")


def version() -> str:
    """nginx's version number ("1.22.1"), or "?" when it cannot be asked."""
    try:
        answer = subprocess.run([NGINX, "-v"], capture_output=True, text=True, timeout=10)
    except OSError:
        return "?"
    found = re.search(r"nginx/(\S+)", answer.stderr + answer.stdout)
    return found.group(1) if found else "?"


def route_cookie(base_url: str) -> str:
    """What a browser's first request gets: the ``Cookie`` header value carrying its route (empty without
    a balancer that sets one)."""
    with urllib.request.urlopen(f"{base_url}/", timeout=30) as answer:
        for header in answer.headers.get_all("Set-Cookie") or []:
            name_value = header.split(";", 1)[0].strip()
            if name_value.startswith("lossviz_route="):
                return name_value
    return ""
