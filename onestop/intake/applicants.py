"""Who hands in a dossier and who receives it: the applicant's fields checked with receive's rules
(also one field at a time, for a prompt), and the officer's name for the history and for printed forms."""

from __future__ import annotations

import getpass
from dataclasses import dataclass

from onestop.common.config import Config
from onestop.common.errors import InvalidInput
from onestop.common.text import clean_field, nfc


@dataclass
class Applicant:
    name: str
    id_number: str
    id_type: str | None = None
    phone: str = ""
    email: str = ""
    address: str = ""
    authorised_name: str = ""


def officer_name(cfg: Config) -> str:
    """Who acts, for the history: the configured officer, else the login name (never printed on a form)."""
    if cfg.officer:
        return cfg.officer
    try:
        return getpass.getuser()
    except Exception:
        return "officer"


def form_officer(cfg: Config) -> str:
    """The officer's name for a printed form; ConfigError (before anything is stored) when none is
    configured: a citizen must never get a form signed by a login name such as ``root``."""
    from onestop.common.errors import ConfigError

    name = nfc(cfg.officer or "").strip()
    if not name:
        raise ConfigError(
            "Chưa đặt tên cán bộ để in lên phiếu. Đặt [counter] officer = \"Họ và tên\" trong "
            f"{cfg.home / 'onestop.toml'} (hoặc config/onestop.toml), hoặc biến môi trường "
            "ONESTOP_OFFICER=\"Họ và tên\", hoặc tùy chọn --officer \"Họ và tên\"; rồi chạy lại. Chưa lưu gì.",
            "No officer name is set for printed forms. Set [counter] officer = \"Full Name\" in "
            f"{cfg.home / 'onestop.toml'} (or config/onestop.toml), or the environment variable "
            "ONESTOP_OFFICER=\"Full Name\", or the option --officer \"Full Name\"; then run again. Nothing was stored.",
        )
    return name


def validate_applicant(a: Applicant, today_year: int, *, check_phone: bool = True):
    from onestop.domain.identifiers import InvalidId, parse_id
    from onestop.domain.phones import normalize_phone, parse_phone

    name = clean_field(a.name, "Họ tên người nộp (--name)", "The applicant's name (--name)")
    if not name:
        if a.name and a.name.strip():
            raise InvalidInput("Họ tên người nộp (--name) chỉ gồm ký tự vô hình (khoảng trắng độ rộng 0…). Nhập lại họ tên.",
                               "The applicant's name (--name) holds only invisible characters (zero-width spaces…). "
                               "Type the name again.")
        raise InvalidInput("Thiếu họ tên người nộp hồ sơ (--name).", "The applicant's name is missing (--name).")
    try:
        pid = parse_id(a.id_number, a.id_type, today_year=today_year)
    except InvalidId as e:
        raise InvalidInput(e.message_vi, e.message_en) from None
    email = clean_field(a.email, "Email", "The email")
    if email and ("@" not in email or " " in email):
        raise InvalidInput(f"Email '{email}' không hợp lệ.", f"Email '{email}' is invalid.")
    if check_phone:
        try:
            phone = parse_phone(a.phone)
        except InvalidId as e:
            raise InvalidInput(e.message_vi, e.message_en) from None
    else:
        phone = normalize_phone(a.phone)  # as stored before: a correction of another field keeps it
    return name, pid, phone, email


# A valid CCCD (Hà Nội, born 1985): lets one applicant field be checked alone with receive's own rules.
_PROBE_ID = "001085012345"


def check_applicant_field(field_: str, value: str, *, id_type: str | None = None, today_year: int) -> str:
    """Check one applicant field ("name", "id", "phone", "email", "address") exactly as receive will,
    so an interactive session can ask again at the prompt; returns the stored form. InvalidInput otherwise."""
    a = Applicant(name="A", id_number=_PROBE_ID, id_type="cccd")
    if field_ == "id":
        a.id_number, a.id_type = value, id_type
    elif field_ in ("name", "phone", "email", "address"):
        setattr(a, field_, value)
    else:
        raise ValueError(field_)
    name, pid, phone, email = validate_applicant(a, today_year)
    return {"name": name, "id": pid.number, "phone": phone, "email": email, "address": nfc(value)}[field_]
