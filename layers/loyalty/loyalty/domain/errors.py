"""Domain errors: each one names a situation a shopper or an operator must be told about."""

from datetime import datetime


class DomainError(Exception):
    """Base of every error the domain raises on purpose. `reason` is a stable machine-readable code;
    `retryable` says the same request or message may succeed later as it is (a queue retries it, the API
    answers 503 with Retry-After)."""

    reason = "domain_error"
    retryable = False


class InvalidQr(DomainError):
    """The text is not a fiscal receipt QR code."""

    reason = "invalid_qr"


class InvalidReceipt(DomainError):
    """A receipt document could not be read into the normalised model."""

    reason = "invalid_receipt"


class ReceiptAlreadyClaimed(DomainError):
    """Another submission already claimed this fiscal key."""

    reason = "already_claimed"

    def __init__(self, fiscal_key: str):
        super().__init__(f"receipt {fiscal_key} is already claimed")
        self.fiscal_key = fiscal_key


class DailyLimitReached(DomainError):
    """The member has registered the program's maximum of earning receipts today."""

    reason = "daily_limit"


class RefundExceeded(DomainError):
    """The purchase has less left to refund than the refund receipt returns."""

    reason = "refund_exceeded"


class MemberNotFound(DomainError):
    reason = "member_not_found"


class Contended(DomainError):
    """Other writers kept changing the record until there was no time left to try again. Nothing was
    written: the same request or message, retried a little later, succeeds."""

    reason = "contended"
    retryable = True


class StorageUnavailable(DomainError):
    """AWS (a table, a queue, a secret) could not take the request now — throttled, failing or unreachable,
    after the SDK's own retries. Nothing was changed by the failed call: retry the whole message or request."""

    reason = "storage_unavailable"
    retryable = True


class AlreadyInProgress(DomainError):
    """The same update or message is being handled by another invocation right now."""

    reason = "already_in_progress"
    retryable = True


class ReceiptNotFound(DomainError):
    """The receipt service says the receipt is not valid (proverkacheka code 0)."""

    reason = "receipt_not_found"


class ReceiptServiceUnavailable(DomainError):
    """The receipt service cannot answer now; ask again later (codes 2-5, timeouts, 5xx)."""

    reason = "receipt_service_unavailable"
    retryable = True

    def __init__(self, detail: str, retry_after_seconds: int | None = None):
        super().__init__(detail)
        self.retry_after_seconds = retry_after_seconds


class BirthdayLocked(DomainError):
    """The birthday was given less than a year ago: it may be corrected once a year."""

    reason = "birthday_locked"

    def __init__(self, until: datetime):
        super().__init__(f"the birthday may be corrected from {until.isoformat()}")
        self.until = until


class NoSpins(DomainError):
    """A spin of the prize draw was asked for, and the member has none left."""

    reason = "no_spins"


class InsufficientPoints(DomainError):
    """Fewer points are available than a hold or a deduction wants."""

    reason = "insufficient_points"

    def __init__(self, wanted: int, available: int):
        super().__init__(f"{wanted} points wanted, {available} available")
        self.wanted = wanted
        self.available = available


class HoldNotFound(DomainError):
    """No open hold by that id: never placed, already committed or released."""

    reason = "hold_not_found"


class HoldExpired(DomainError):
    """The hold outlived its time to live; its points go back to the member."""

    reason = "hold_expired"


class ItemRefused(DomainError):
    """A write that had to go with a ledger entry, in its transaction, failed its condition (the last of a reward
    was taken): the entry is not written either."""

    reason = "item_refused"

    def __init__(self, index: int):
        super().__init__(f"extra item {index} failed its condition")
        self.index = index


class AlreadyRecorded(DomainError):
    """The lot or hold exists: the operation that makes it was done before (a redelivery)."""

    reason = "already_recorded"


class Conflict(DomainError):
    """The request contradicts what was done before (a reused key, a used code)."""

    reason = "conflict"


class InvalidRequest(DomainError):
    """The request is well-formed but asks for something impossible."""

    reason = "invalid_request"


class OverQuote(DomainError):
    """More points asked than the basket allows."""

    reason = "over_quote"


class ChatBlocked(DomainError):
    """The shopper blocked the bot (Telegram's 403): nothing can reach them until they unblock it."""

    reason = "chat_blocked"


class RateLimited(DomainError):
    """Telegram asks to wait (its 429): try again after `retry_after_seconds`."""

    reason = "rate_limited"
    retryable = True

    def __init__(self, message: str, retry_after_seconds: int):
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class MessageRejected(DomainError):
    """Telegram refuses the request as it is (its 400): sending it again cannot help."""

    reason = "message_rejected"


class TelegramUnavailable(DomainError):
    """Telegram could not be reached or failed (network, 5xx): try again later."""

    reason = "telegram_unavailable"
    retryable = True


class CrmUnavailable(DomainError):
    """The CRM cannot take the event now (timeout, 5xx, its 429): try again later with the same idempotency key;
    `retry_after_seconds` when the CRM said how long to wait."""

    reason = "crm_unavailable"
    retryable = True

    def __init__(self, detail: str, retry_after_seconds: int | None = None):
        super().__init__(detail)
        self.retry_after_seconds = retry_after_seconds


class CrmRejected(DomainError):
    """The CRM refuses the event as it is (Mindbox's ValidationError or ProtocolError, a webhook's 4xx): sending it
    again cannot help. `response` is what the CRM answered, for the dead-letter queue."""

    reason = "crm_rejected"

    def __init__(self, detail: str, response: str = ""):
        super().__init__(detail)
        self.response = response


class CrmCustomerUnknown(CrmRejected):
    """The CRM does not know the member the event is about (its registration was refused or lost, or a manager
    deleted the customer there): crm_sync registers them from our own data, then sends the event again."""

    reason = "crm_customer_unknown"
