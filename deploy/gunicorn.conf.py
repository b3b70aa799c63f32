"""gunicorn settings for casefile behind nginx (deploy/nginx/casefile.conf).

Run as: gunicorn --config deploy/gunicorn.conf.py "casefile.app:create_app()"
Every CASEFILE_* setting comes from the environment (deploy/casefile.env.example).
"""

import os

# Only nginx on this host talks to gunicorn.
bind = os.environ.get("CASEFILE_BIND", "127.0.0.1:8000")

# Threads: nginx streams uploads through unbuffered (so no plaintext copy lands in its temp
# folder), and a slow upload then holds one thread, not a whole process.
worker_class = "gthread"
workers = int(os.environ.get("CASEFILE_WORKERS", "4"))
threads = int(os.environ.get("CASEFILE_THREADS", "4"))

# A 500 MB upload over a slow link takes minutes; a worker is only killed when it stops
# answering the arbiter, not for a long request, so this bounds a hung worker.
timeout = 120
graceful_timeout = 60
keepalive = 5

# Fresh worker processes now and then bound the memory a long-lived one may collect.
max_requests = 2000
max_requests_jitter = 200

# The app is built in each worker after the fork: no database connection or thread pool is shared.
preload_app = False

# No access log: request lines carry search terms, which are often names. Errors go to journald.
accesslog = None
errorlog = "-"
loglevel = "warning"

# The default request-line and header limits stay; uploads are bounded by CASEFILE_EVIDENCE_MAX_MB.
proc_name = "casefile"
