# The same process model as deploy/gunicorn.conf.py (workers, sync class, keep-alive, timeouts),
# without our logger class, which lives in our package.
import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8001")
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"
timeout = 60
keepalive = 5
accesslog = None
errorlog = "-"
loglevel = "warning"
control_socket_disable = True
worker_tmp_dir = "/dev/shm"
