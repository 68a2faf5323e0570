"""Hardware-token import from the CSV files vendors ship.

Formats (`reference/hardware-and-otp.md` §3-4), one token per line:
- HOTP/TOTP (h6, h8, t6, t8): ``serial,secret_hex[,counter or totp_step][,username]``;
- Azure-style (a header naming ``upn``): ``upn,serial number,secret key(base32),time interval,...``
  (the upn assigns the token);
- YubiKey (yk), the Personalization Tool's "Yubico format":
  ``serial,public_id,private_id,aes_key,access_code,timestamp,[username]``, or its "Traditional
  format" (``LOGGING START`` then ``Yubico OTP,ts,slot,public_id,private_id,aes_key,...``; the
  public id is the serial);
- any file with a header line naming its columns (serial, secret, counter, totp_step, username,
  public_id, private_id, aes_key).

Every row is checked (format, secret, unique serial, known user) before anything is stored;
with one bad row nothing is imported, unless partial import is asked for. Seeds are never
exported again.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from authsvc.domain.csv_rows import csv_rows
from authsvc.domain.tokens import NewToken, TokenRegistry, check_serial, parse_seed, parse_type
from authsvc.domain.users import UserDirectory
from authsvc.errors import AuthsvcError, InvalidParameter
from authsvc.model.tokens import TokenType
from authsvc.store import Store

MAX_ROWS = 50_000
HEADER_NAMES = {"serial", "secret", "counter", "totp_step", "username", "public_id",
                "private_id", "aes_key", "upn", "serial number", "secret key", "time interval"}


@dataclass(frozen=True, slots=True)
class ImportRow:
    """One token to import, with the user it goes to (if any)."""

    line: int
    token: NewToken
    username: str = ""


@dataclass
class ImportReport:
    """Per-row outcome: created token ids, or the error of each bad line."""

    rows: list[dict[str, object]] = field(default_factory=list)

    @property
    def errors(self) -> list[dict[str, object]]:
        return [row for row in self.rows if "error" in row]


def _column(record: dict[str, str], *names: str) -> str:
    return next((record[n] for n in names if record.get(n)), "")


def _from_header(record: dict[str, str], token_type: str) -> tuple[NewToken, str]:
    if "upn" in record:  # Azure-style: base32 secret, assigned by upn
        try:
            secret = base64.b32decode(record.get("secret key", "").replace(" ", "").upper()
                                      + "=" * (-len(record.get("secret key", "")) % 8)).hex()
        except binascii.Error:
            raise InvalidParameter("secret key (base32)") from None
        step = int(record.get("time interval") or 30)
        return NewToken(token_type, record.get("serial number", ""), secret, totp_step=step), \
            record["upn"]
    token = NewToken(token_type, _column(record, "serial", "public_id"), record.get("secret", ""),
                     counter=int(record.get("counter") or 0),
                     totp_step=int(record.get("totp_step") or 30),
                     private_id=record.get("private_id", ""), aes_key=record.get("aes_key", ""))
    return token, record.get("username", "")


def _positional(fields: list[str], token_type: TokenType) -> tuple[NewToken, str]:
    if token_type is TokenType.YUBIKEY:
        if fields[0] == "Yubico OTP":  # Traditional format: the public id is the serial
            return NewToken("yk", fields[3], private_id=fields[4], aes_key=fields[5]), ""
        if len(fields) < 4:
            raise InvalidParameter("serial,public_id,private_id,aes_key,... expected")
        username = fields[6] if len(fields) > 6 else ""
        return NewToken("yk", fields[0], private_id=fields[2], aes_key=fields[3]), username
    if len(fields) < 2:
        raise InvalidParameter("serial,secret_hex[,counter][,username] expected")
    third = int(fields[2]) if len(fields) > 2 and fields[2] else None  # counter or totp_step
    if token_type.is_totp:
        token = NewToken(token_type.value, fields[0], fields[1], totp_step=third or 30)
    else:
        token = NewToken(token_type.value, fields[0], fields[1], counter=third or 0)
    return token, fields[3] if len(fields) > 3 else ""


def _check(token: NewToken) -> None:
    """The checks TokenRegistry.add will make, run before anything is stored."""
    check_serial(token.serial)
    if parse_type(token.type) is not TokenType.YUBIKEY:
        parse_seed(token.secret)


def parse_csv(text: str, token_type: str) -> tuple[list[ImportRow], ImportReport]:
    """Rows to import, and a report holding the errors of the lines that cannot be."""
    kind = parse_type(token_type)
    lines = [(n, [f.strip() for f in row]) for n, row in enumerate(csv_rows(text), 1)
             if row and "".join(row).strip() and not row[0].startswith("LOGGING START")]
    header = None
    if lines and {f.lower() for f in lines[0][1]} & HEADER_NAMES and not lines[0][1][0] == "Yubico OTP":
        header = [f.lower() for f in lines[0][1]]
        lines = lines[1:]
    if len(lines) > MAX_ROWS:
        raise InvalidParameter(f"csv (at most {MAX_ROWS} tokens)")
    rows, report, serials = [], ImportReport(), set()
    for number, fields in lines:
        try:
            token, username = (_from_header(dict(zip(header, fields, strict=False)), kind.value)
                               if header else _positional(fields, kind))
            _check(token)
            if token.serial in serials:
                raise InvalidParameter("serial repeated in the file")
        except (AuthsvcError, ValueError, IndexError) as exc:
            detail = exc.message_detail if isinstance(exc, AuthsvcError) else str(exc)
            report.rows.append({"line": number, "error": detail})
            continue
        serials.add(token.serial)
        rows.append(ImportRow(number, token, username.strip().lower()))
    return rows, report


class TokenImporter:
    """Import checked rows, all or nothing unless partial."""

    def __init__(self, store: Store, tokens: TokenRegistry, users: UserDirectory) -> None:
        self._store = store
        self._tokens = tokens
        self._users = users

    async def run(self, text: str, token_type: str, *, partial: bool = False,
                  progress: Callable[[], Awaitable[None]] | None = None) -> ImportReport:
        rows, report = parse_csv(text, token_type)
        owners = await self._check_rows(rows, report)
        if report.errors and not partial:
            raise InvalidParameter("csv: " + "; ".join(
                f"line {row['line']}: {row['error']}" for row in report.errors[:20]))
        created: list[str] = []
        try:
            for row in rows:
                if row.line in owners:
                    token = await self._tokens.add(row.token)
                    created.append(token.token_id)
                    if owners[row.line]:
                        await self._tokens.assign(owners[row.line], token.token_id)
                    report.rows.append({"line": row.line, "serial": token.serial,
                                        "token_id": token.token_id, "user": row.username})
                if progress is not None:
                    await progress()
        except AuthsvcError:
            if not partial:  # a serial taken meanwhile: undo, so nothing is half-imported
                for token_id in created:
                    await self._tokens.delete(token_id)
            raise
        report.rows.sort(key=lambda row: int(str(row["line"])))
        return report

    async def _check_rows(self, rows: list[ImportRow], report: ImportReport) -> dict[int, str]:
        """line -> owner user id ("" = unassigned) for the rows that can be imported."""
        owners: dict[int, str] = {}
        for row in rows:
            if await self._store.tokens.by_serial(row.token.serial) is not None:
                report.rows.append({"line": row.line, "error": "serial already in use"})
                continue
            user = await self._users.by_name(row.username) if row.username else None
            if row.username and user is None:
                report.rows.append({"line": row.line, "error": f"unknown user {row.username}"})
                continue
            owners[row.line] = user.user_id if user else ""
        return owners
