"""Configuration from the environment (prefix MISURE_)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """`MISURE_DATABASE_URL`: SQLAlchemy URL (default SQLite in var/misure.db; PostgreSQL as
    `postgresql+psycopg://user@host:5432/db`). `MISURE_MACHINE_MODULES`: JSON list of the modules
    declaring the case kinds this installation runs. `MISURE_OFFICE_NAME`, `MISURE_OFFICE_PLACE`:
    who issues the notices, and where they are signed."""

    model_config = SettingsConfigDict(env_prefix="MISURE_")

    database_url: str = "sqlite:///var/misure.db"
    machine_modules: list[str] = Field(default_factory=lambda: ["machines.placement"])
    office_name: str = "Ufficio interdistrettuale di esecuzione penale esterna"
    office_place: str = "Roma"
