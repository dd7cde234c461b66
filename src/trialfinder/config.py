"""Where trialfinder keeps its data, read from the command line or the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DATA_DIR = "./trialfinder-data"


@dataclass(frozen=True)
class Settings:
    """Locations of the store and the derived search index."""

    data_dir: Path
    database_url: str

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def load_settings(data_dir: str | Path | None = None, database_url: str | None = None) -> Settings:
    """Settings from explicit values, else TRIALFINDER_DATA / TRIALFINDER_DATABASE_URL, else the defaults."""
    directory = Path(data_dir or os.environ.get("TRIALFINDER_DATA") or DEFAULT_DATA_DIR).resolve()
    url = database_url or os.environ.get("TRIALFINDER_DATABASE_URL") or f"sqlite:///{directory / 'trialfinder.sqlite3'}"
    if url.startswith("postgresql://"):
        # SQLAlchemy's plain postgresql:// means psycopg2; we ship psycopg 3.
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return Settings(data_dir=directory, database_url=url)
