"""Gunicorn settings for Consult: `gunicorn --config gunicorn.conf.py` (what `make serve` and the
systemd unit in docs/deploy/ run). Every value can be changed by environment variable:

    PORT                  8000             port of the default bind
    BIND                  [::]:PORT        comma-separated addresses (host:port, [v6]:port,
                                           unix:/path); the default takes IPv4 and IPv6
    WEB_CONCURRENCY       CPUs (min 2)     worker processes
    GUNICORN_THREADS      8                threads per worker (gthread)
    GUNICORN_TIMEOUT      60               seconds a silent worker lives before it is replaced
    GUNICORN_ACCESS_LOG   -                access log: '-' is stdout, else a file path
    FORWARDED_ALLOW_IPS   (none)           proxies whose X-Forwarded-Proto gunicorn trusts
    GUNICORN_CONTROL_SOCKET (off)          path of gunicorn's control socket (gunicornc)
    GUNICORN_LOG_LEVEL    info             gunicorn's own log (to stderr)

Processes use the CPUs (the GIL lets one thread of a process run Python at a time); threads
cover the waits on the database, the object store and mail. Keep the database pool at least as
large as the threads of one worker (docs/deployment.md).
"""

from __future__ import annotations

import math
import os
import socket
from pathlib import Path

wsgi_app = "app:app"
proc_name = "consult"


def _cpus() -> int:
    """CPUs this process may use: its affinity mask, capped by a cgroup v2 CPU quota."""
    try:
        count = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        count = os.cpu_count() or 1
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()
        if quota != "max":
            count = min(count, max(1, math.ceil(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return max(1, count)


def _ipv6_dual_stack() -> tuple[bool, bool]:
    """(IPv6 usable, '[::]' also takes IPv4). Linux: dual-stack unless net.ipv6.bindv6only."""
    if not socket.has_ipv6:
        return False, False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::", 0))
            v6only = probe.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY)
    except OSError:
        return False, False
    return True, not v6only


def _bind() -> list[str]:
    if os.environ.get("BIND"):
        return [part.strip() for part in os.environ["BIND"].split(",") if part.strip()]
    port = int(os.environ.get("PORT", 8000))
    ipv6, dual_stack = _ipv6_dual_stack()
    if not ipv6:
        return [f"0.0.0.0:{port}"]
    if dual_stack:
        return [f"[::]:{port}"]
    return [f"0.0.0.0:{port}", f"[::]:{port}"]  # bindv6only=1: one socket per family


bind = _bind()
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY") or max(2, _cpus()))
threads = int(os.environ.get("GUNICORN_THREADS") or 8)
backlog = 2048

# A worker that stops answering its heartbeat for this long is killed and replaced.
timeout = int(os.environ.get("GUNICORN_TIMEOUT") or 60)
# On SIGHUP/SIGTERM a worker finishes its requests for up to this long.
graceful_timeout = 30
# Idle keep-alive connections: longer than nginx's upstream keepalive_timeout (docs/deploy).
keepalive = 75
# Replace each worker after some requests (leaks cannot grow for ever); the jitter keeps the
# workers from restarting all at once.
max_requests = 2000
max_requests_jitter = 200
# The heartbeat file in memory, not on a disk that may stall (gunicorn's own advice).
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None

# The access log names the peer (nginx when proxied) and the client it forwarded for.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or "-"
access_log_format = ('%(h)s forwarded_for="%({x-forwarded-for}i)s" %(t)s "%(r)s" %(s)s %(B)s '
                     '%(M)sms "%(f)s" "%(a)s"')
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")

# Trust X-Forwarded-Proto only from the proxies named; by default from nobody (gunicorn's own
# default trusts 127.0.0.1). The app reads X-Forwarded-For itself when PROXY_FIX is on.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "")

# Gunicorn 25+ opens a control socket in $HOME by default: off unless a path is given, so
# several instances on one host never fight over one socket.
if os.environ.get("GUNICORN_CONTROL_SOCKET"):
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]
else:
    control_socket_disable = True


def post_worker_init(worker):
    """Refuse to start with a file store that cannot be used (e.g. the S3 bucket is missing):
    a first worker fails to boot, so gunicorn stops with the reason in its log. A worker that
    replaces another later (max_requests, a crash) only logs it: an object store outage then
    means 503s for files, not a whole site down."""
    from consult import storage

    try:
        storage.check(worker.wsgi)
    except RuntimeError as error:
        if worker.age <= worker.cfg.workers:  # the workers of the first start
            raise
        worker.log.error("%s; serving on, file uploads and downloads answer 503", error)
