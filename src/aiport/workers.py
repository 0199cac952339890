"""`--workers N`: a supervisor process and N copies of the server sharing the port.

Each worker runs in a process group of its own, so a Ctrl-C at the terminal (SIGINT to the
foreground group) reaches the supervisor only, and it tells each worker once, with SIGTERM.
Where every process is signalled anyway (systemd's default KillMode=control-group), a
worker's repeated signal is ignored (`aiport.lifecycle`). Each worker holds the read end of
a pipe whose write end only the supervisor has: if the supervisor dies, even by SIGKILL,
the workers see end-of-file and shut down instead of serving on orphaned.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from types import FrameType

from aiport.limits.parent import LimiterService
from aiport.metrics import MULTIPROC_ENV
from aiport.settings import Settings
from aiport.store.database import default_database_url

log = logging.getLogger(__name__)

WORKER_ENV = "AIPORT_WORKER"  # in a worker: the file descriptor of the supervisor's pipe
FIRST_WORKER_ENV = "AIPORT_FIRST_WORKER"  # "1" in the worker that says it is serving


def supervise(settings: Settings, master_key: str) -> int:
    """Start `workers` copies of this command and wait for them; 0 if all stopped cleanly."""
    # Without Redis the workers share this process's limiter: limits as for one process.
    limits = None
    if not settings.redis_url:
        limits = LimiterService(settings.database_url or default_database_url(settings.data_dir))
        limits.start()
    lifeline, keep_open = os.pipe()
    # One directory for every worker's metrics, so that a scrape of any shows them all.
    metrics_dir = tempfile.mkdtemp(prefix="aiport-metrics-")
    env = {
        **os.environ,
        WORKER_ENV: str(lifeline),
        "AIPORT_MASTER_KEY": master_key,
        MULTIPROC_ENV: metrics_dir,
    }
    env |= limits.env if limits is not None else {}
    argv = [sys.executable, "-m", "aiport", *sys.argv[1:]]
    workers = [
        subprocess.Popen(
            argv,
            env=env | {FIRST_WORKER_ENV: "1" if index == 0 else "0"},
            pass_fds=(lifeline,),
            process_group=0,
        )
        for index in range(settings.workers)
    ]
    os.close(lifeline)
    log.info("started %d workers on %s:%d", len(workers), settings.host, settings.port)
    stopping = False

    def stop(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        name = signal.Signals(signum).name
        if stopping:
            log.info("%s: the workers are already shutting down", name)
            return
        stopping = True
        log.info("%s: shutting down %d workers", name, len(workers))
        for worker in workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    codes = [worker.wait() for worker in workers]
    os.close(keep_open)
    if limits is not None:  # after the workers: their last settlements come here
        limits.stop()
    shutil.rmtree(metrics_dir, ignore_errors=True)
    if any(codes):
        log.error("workers exited with %s", codes)
    return 1 if any(codes) else 0
