"""Configuration: the environment (prefix MISURE_) over `misure.toml` at the project's root."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

CONFIG = Path(__file__).resolve().parent.parent / "misure.toml"


class Settings(BaseSettings):
    """`MISURE_DATABASE_URL`: SQLAlchemy URL (default SQLite in var/misure.db; PostgreSQL as
    `postgresql+psycopg://user@host:5432/db`). `MISURE_PROCEDURES`: JSON list of the modules
    declaring the procedures this installation runs (default: `misure.toml`).
    `MISURE_MACHINE_MODULES`: bare machines without a procedure (the engine's tests).
    `MISURE_OFFICE_NAME`, `MISURE_OFFICE_PLACE`: who issues the notices, and where they are
    signed. `MISURE_SEALS_DIR`: where the daily seals of the trail are written, outside the
    database (keep it on other storage, or copy it there)."""

    model_config = SettingsConfigDict(env_prefix="MISURE_", toml_file=CONFIG)

    database_url: str = "sqlite:///var/misure.db"
    procedures: list[str] = Field(default_factory=list)
    machine_modules: list[str] = Field(default_factory=list)
    office_name: str = "Ufficio interdistrettuale di esecuzione penale esterna"
    office_place: str = "Roma"
    seals_dir: Path = Path("var/seals")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, env_settings, TomlConfigSettingsSource(settings_cls)
