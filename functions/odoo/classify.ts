/**
 * One error family from both protocols: an Odoo exception name (JSON-RPC `data.name`, JSON-2
 * `name`) or an HTTP status becomes the OdooError subclass that drives the retry decision.
 */
import {
  OdooAccessDenied,
  OdooAccessError,
  OdooDeadlineExceeded,
  type OdooError,
  type OdooErrorDetails,
  OdooLockError,
  OdooMissingError,
  OdooServerError,
  OdooTransportError,
  OdooUserError,
  OdooValidationError,
} from './errors/index.ts';

const LOCK_NAMES =
  /LockError|SerializationFailure|TransactionRollback|DeadlockDetected|LockNotAvailable|ConcurrentUpdate/;

/** Another transaction registered the same external id a moment ago: the retry finds it. */
const EXTERNAL_ID_TAKEN = /duplicate key value violates unique constraint "ir_model_data/i;

/** The first line of Odoo's message, for our own message; the whole text stays in odooMessage. */
function headline(message: string): string {
  const first = message.split('\n').find((line) => line.trim() !== '') ?? message;
  return first.length > 300 ? `${first.slice(0, 300)}…` : first;
}

export function errorFromOdoo(name: string, message: string, details: OdooErrorDetails): OdooError {
  const full = { ...details, odooName: name, odooMessage: message };
  const text = `${name.replace(/^.*\./, '')}: ${headline(message)}`;
  if (/AccessDenied|SessionExpired|Unauthorized/.test(name)) {
    return new OdooAccessDenied(
      text,
      full,
      'check the Odoo login, password or API key in the credential secret',
    );
  }
  if (/AccessError|Forbidden/.test(name)) {
    return new OdooAccessError(
      text,
      full,
      'give the integration user access to this model, or remove the field from the contract',
    );
  }
  if (LOCK_NAMES.test(name) || EXTERNAL_ID_TAKEN.test(message))
    return new OdooLockError(text, full);
  if (/MissingError/.test(name)) return new OdooMissingError(text, full);
  if (
    /ValidationError|UnprocessableEntity|IntegrityError|builtins\.(ValueError|TypeError|KeyError)/.test(
      name,
    )
  ) {
    return new OdooValidationError(
      text,
      full,
      'the values do not fit the Odoo model: fix the contract mapping or the source data, then replay',
    );
  }
  if (/UserError|NotFound/.test(name)) return new OdooUserError(text, full);
  if (/OperationalError|ServiceUnavailable|MemoryError/.test(name)) {
    return new OdooTransportError(text, { ...full, notProcessed: false });
  }
  return new OdooServerError(text, full);
}

/** An HTTP answer that is not Odoo's own error body: proxies, throttling, killed workers. */
export function errorFromStatus(
  status: number,
  retryAfter: string | null,
  details: OdooErrorDetails,
): OdooError {
  const seconds = retryAfter === null ? Number.NaN : Number(retryAfter);
  const retryAfterMs = Number.isFinite(seconds)
    ? seconds * 1000
    : retryAfter && !Number.isNaN(Date.parse(retryAfter))
      ? Math.max(0, Date.parse(retryAfter) - Date.now())
      : undefined;
  if (status === 429 || status === 502 || status === 503 || status === 504 || status >= 500) {
    // 429 and 503 say the request was refused before it ran; 502/504 may hide a finished write.
    return new OdooTransportError(`Odoo answered HTTP ${status}`, {
      ...details,
      status,
      retryAfterMs,
      notProcessed: status === 429 || status === 503,
    });
  }
  if (status === 401)
    return new OdooAccessDenied(
      `Odoo answered HTTP 401`,
      { ...details, status },
      'check the Odoo API key',
    );
  if (status === 403) return new OdooAccessError(`Odoo answered HTTP 403`, { ...details, status });
  if (status === 404)
    return new OdooUserError(`Odoo answered HTTP 404: check the URL, database, model and method`, {
      ...details,
      status,
    });
  return new OdooServerError(`Odoo answered HTTP ${status}`, { ...details, status });
}

/** Whether a failed call may still have run in Odoo: its answer was lost, not refused. */
export function mayHaveRun(error: unknown): boolean {
  if (error instanceof OdooTransportError) return !error.notProcessed;
  if (error instanceof OdooDeadlineExceeded) return error.sent;
  return false;
}

/**
 * A row message of `load`, which reports each row's exception as text instead of raising: the
 * class is read from what the text says, so a denial or a lock in a row is retried like a raised
 * one (Odoo's `load` keeps only `str(exception)`).
 */
export function errorFromLoadMessage(message: string, details: OdooErrorDetails): OdooError {
  const full = { ...details, odooMessage: message };
  const text = headline(message);
  if (/^Access Denied\b|session expired/i.test(text))
    return new OdooAccessDenied(
      text,
      full,
      'check the Odoo login, password or API key in the credential secret',
    );
  if (/not allowed to (access|create|modify|delete)|access error|AccessError/i.test(message))
    return new OdooAccessError(
      text,
      full,
      'give the integration user access to this model, or remove the field from the contract',
    );
  // A concurrent writer: PostgreSQL's serialization failure, a lock, or a unique external id
  // registered by another transaction a moment ago (the retry finds it and updates).
  if (
    /could not serialize access|concurrent update|deadlock detected|could not obtain lock|lock not available|LockError/i.test(
      message,
    ) ||
    EXTERNAL_ID_TAKEN.test(message)
  )
    return new OdooLockError(text, full);
  return new OdooValidationError(
    text,
    full,
    'the values do not fit the Odoo model: fix the contract mapping or the source data, then replay',
  );
}
