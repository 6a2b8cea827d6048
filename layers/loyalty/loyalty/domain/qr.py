"""The QR code printed on every Russian fiscal receipt: `t=...&s=...&fn=...&i=...&fp=...&n=...`.

domain/qr_text.py reads it from what a shopper pasted; this is the receipt's query built from it.
The triple (fn, fd, fp) identifies a receipt and is its de-duplication key.
"""


from datetime import datetime

from pydantic import BaseModel, ConfigDict

from loyalty.domain.qr_text import read_qr


class FiscalKey(BaseModel):
    """The identity of one fiscal document."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    fn: str  # fiscal drive serial (ФН)
    fd: int  # fiscal document number (ФД, QR `i`)
    fp: int  # fiscal sign (ФП)

    def __str__(self) -> str:
        return f"{self.fn}:{self.fd}:{self.fp}"


class ReceiptQuery(BaseModel):
    """Everything the QR code holds: enough to ask a receipt service for the full receipt."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    key: FiscalKey
    issued_at: datetime  # local time of the sale, naive: the QR carries no time zone
    total_kopecks: int
    operation: int

    def to_qr(self) -> str:
        """The canonical QR text, as receipt services expect it in `qrraw`."""
        roubles, kopecks = divmod(self.total_kopecks, 100)
        return (
            f"t={self.issued_at:%Y%m%dT%H%M%S}&s={roubles}.{kopecks:02d}"
            f"&fn={self.key.fn}&i={self.key.fd}&fp={self.key.fp}&n={self.operation}"
        )


def parse_qr(text: str) -> ReceiptQuery:
    """Read a receipt QR string in any form seen in the wild. Raises InvalidQr with a reason."""
    read = read_qr(text)
    return ReceiptQuery(key=FiscalKey(fn=read.fn, fd=read.fd, fp=read.fp), issued_at=read.issued_at,
                        total_kopecks=read.total_kopecks, operation=read.operation)
