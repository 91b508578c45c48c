"""Jobs: slow and scheduled work outside the request (consult/jobs/queue.py has the lifecycle,
transport.py the hand-off to RQ or a thread, worker.py `flask --app app worker`, schedule.py
the cron-style tick, views.py what staff see at /staff/jobs)."""
