"""The teacher's settings for a class: per-job limits, how many trainings run at once, data paths.

Students never see or change these. Today they come from environment variables (documented in the
README); the Teacher page stores changes made in class.

| variable | setting | default |
| --- | --- | --- |
| ``RNNLAB_MAX_JOB_SECONDS`` | wall-time limit of one training | 300 |
| ``RNNLAB_MAX_EPOCHS`` | most epochs one training may ask for | 20 |
| ``RNNLAB_MAX_PARAMS`` | most weights one model may have | 3,000,000 |
| ``RNNLAB_JOB_WORKERS`` | trainings that run at once | 1 per 2 CPU cores, or 1 per GPU |
| ``RNNLAB_IMDB`` | a folder with the full IMDB (aclImdb/ or imdb_*.csv.gz) | none: the compact subset in assets/ |
| ``RNNLAB_ALLOW_IMDB_DOWNLOAD`` | whether students may start the 84 MB IMDB download | 0 |
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

from .jobs import JobLimits, default_workers


def _env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    return default if value is None else value.strip().lower() in ("1", "true", "yes", "on")


@dataclass
class Settings:
    max_job_seconds: float = 300.0
    max_epochs: int = 20
    max_params: int = 3_000_000
    workers: int = field(default_factory=default_workers)
    imdb_path: str | None = None
    allow_imdb_download: bool = False
    class_code: str = ""

    def limits(self) -> JobLimits:
        return JobLimits(max_seconds=self.max_job_seconds, max_epochs=self.max_epochs, max_params=self.max_params)


def load_settings() -> Settings:
    """The settings in force: environment variables over the defaults."""
    return Settings(max_job_seconds=float(os.environ.get("RNNLAB_MAX_JOB_SECONDS", 300)),
                    max_epochs=int(os.environ.get("RNNLAB_MAX_EPOCHS", 20)),
                    max_params=int(os.environ.get("RNNLAB_MAX_PARAMS", 3_000_000)),
                    workers=default_workers(),
                    imdb_path=os.environ.get("RNNLAB_IMDB") or None,
                    allow_imdb_download=_env_bool("RNNLAB_ALLOW_IMDB_DOWNLOAD"),
                    class_code=os.environ.get("RNNLAB_CLASS_CODE", ""))
