"""Where and how the app's work runs: trainings as jobs in worker processes (or on a Ray cluster), the class's
rules for sharing them, the class board, the database, the teacher's settings, and the server's own state.

    jobs/           training jobs: the runners (LocalRunner, and BaseRunner shared with RayRunner), the worker
                    process, the typed messages between them, the job's context, limits and the Job itself
    ray_runner.py   the same runner interface with each job a Ray actor on a cluster (RNNLAB_RAY_ADDRESS)
    ray_address.py  whether a Ray cluster's address is private enough to send trainings (code) to
    fairness.py     the fair queue between students, the per-student cap, how long ended jobs are kept
    board.py        the class board: one row per ended training (RunRecord), pooled statistics, CSV
    database.py     the app's database (SQLite by default, any SQLAlchemy URL): board rows and settings
    settings.py     the teacher's settings: job limits, trainings at once, IMDB download, class code
    password_guard.py  the teacher's password, throttled per client against guessing
    singletons.py   server state no client can reset: one object per process
    device.py       the fastest device (CUDA, MPS, CPU), its label, and seeding for repeatable runs

How a job ends is named by :class:`rnnlab.status.Status`.
"""
