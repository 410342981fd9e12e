"""Configuration: the environment (prefix MISURE_) over `misure.toml` at the project's root."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

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
    database (keep it on other storage, or copy it there). `MISURE_REGISTER_DIR`: where the
    publications of the register of facilities are written (art. 3 co. 5-6 D.M. 128/2025;
    default var/register, relative to the working directory). `MISURE_VISIT_EVERY_DAYS`: the
    days between two supervision visits to a facility on the register, as the Head of
    Department's guidelines set them (art. 10 co. 2 D.M. 128/2025; default 90): a facility
    not visited for longer is an incident on the register's dashboard.

    Notices: `MISURE_SIGNING_KEY`, `MISURE_SIGNING_CERTIFICATE` (PEM files; optional
    `MISURE_SIGNING_CHAIN`, a JSON list of PEM files, and `MISURE_SIGNING_PASSPHRASE`): the
    office's certificate, with which notices are signed (PAdES); without them a notice carries
    the printed-signature wording (art. 3 co. 2 d.lgs. 39/1993). `MISURE_SMTP_HOST` (with
    `_PORT`, `_SECURITY` "ssl", "starttls" or "none", `_USER`, `_PASSWORD`): the certified-mail
    provider's server through which notices are sent; without it the messages are written as
    `.eml` files into `MISURE_OUTBOX_DIR` (default var/outbox). `MISURE_PROTOCOL_DIR`: where
    the daily outgoing protocol registers are written (default var/protocol).
    `MISURE_DELIVERY_ATTEMPTS` (default 5) and `MISURE_DELIVERY_BACKOFF_SECONDS` (default 60,
    doubled at each retry): how often a refused message is tried again before it is an
    incident."""

    model_config = SettingsConfigDict(env_prefix="MISURE_", toml_file=CONFIG)

    database_url: str = "sqlite:///var/misure.db"
    procedures: list[str] = Field(default_factory=list)
    machine_modules: list[str] = Field(default_factory=list)
    office_name: str = "Ufficio interdistrettuale di esecuzione penale esterna"
    office_place: str = "Roma"
    seals_dir: Path = Path("var/seals")
    register_dir: Path = Path("var/register")
    visit_every_days: int = Field(default=90, ge=1, le=3660)
    signing_key: Path | None = None
    signing_certificate: Path | None = None
    signing_chain: list[Path] = Field(default_factory=list)
    signing_passphrase: str | None = None
    smtp_host: str | None = None
    smtp_port: int = Field(default=465, ge=1, le=65535)
    smtp_security: Literal["ssl", "starttls", "none"] = "ssl"
    smtp_user: str | None = None
    smtp_password: str | None = None
    outbox_dir: Path = Path("var/outbox")
    protocol_dir: Path = Path("var/protocol")
    delivery_attempts: int = Field(default=5, ge=1, le=20)
    delivery_backoff_seconds: int = Field(default=60, ge=1, le=86400)

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
