/**
 * The one catalogue of error codes. Every failure the product expects is an AppError
 * with a code from here; the user-facing text is written for the person in the chat
 * and never carries personal data, stack traces or upstream error bodies.
 */
export const ERROR_CATALOGUE = {
  CONFIG_INVALID: 'The bot is not configured correctly.',
  INVALID_INPUT: 'That input could not be used.',
  TOO_MANY_ACCOUNTS: 'That list has more accounts than one request may hold.',
  NOT_AN_ADMINISTRATOR: 'Only Primary or Local Administrators can request a NAS transfer.',
  NO_ADMINISTERED_ORGANISATION:
    'Your directory record does not say which organisation you administer, so a transfer cannot be started. Ask your organisation’s Primary Administrator to check it.',
  NOT_OPS: 'Only members of NAS Operations can act on transfer requests.',
  NOT_YOUR_REQUEST: 'That request was not raised by you.',
  REQUEST_NOT_FOUND: 'No transfer request has that reference.',
  ACCOUNT_NOT_IN_REQUEST: 'That account is not part of this request.',
  ALREADY_DECIDED: 'That has already been decided.',
  /** A correction to approved for an account another request now holds (approved there, or waiting for a decision): one mailbox, one request. */
  ACCOUNT_IN_ANOTHER_REQUEST: 'That account is in another transfer request now, so it cannot be approved in this one.',
  /**
   * An action that needs a reason was given none. The error says which reason (ReasonRequiredError
   * in services/requests/lifecycle.ts); the Teams edge words it for the button pressed.
   */
  REASON_REQUIRED: 'A reason is needed for that, and none was given. Nothing was changed.',
  /** "Ask the requester" with no question typed. */
  QUESTION_REQUIRED: 'Type the question in the box above the button.',
  /** Typed text (a reason, a note, a question) made only of spaces or invisible characters: nothing anyone could read in the audit. */
  TEXT_UNREADABLE: 'Readable text is needed: what was typed is only spaces or invisible characters.',
  /** Typed text longer than the card's box allows (TYPED_TEXT_MAX_CHARACTERS). */
  TEXT_TOO_LONG: 'That is too long.',
  CARD_DATA_INVALID: 'That card action was not recognised. Please use the latest card.',
  DIRECTORY_UNAVAILABLE: 'The NHSmail directory could not be reached. Nothing was lost; please try again in a few minutes.',
  ODS_UNAVAILABLE: 'The NHS organisation data service could not be reached. Nothing was lost; please try again in a few minutes.',
  REGISTER_UNAVAILABLE: 'A reference register (DSPT or NAS sites) could not be read.',
  STORAGE_CONFLICT: 'Someone else changed this at the same time. Please try again.',
  WRONG_TENANT: 'This bot only serves its own organisation’s tenant.',
  PLAYGROUND_UNAVAILABLE: 'The Microsoft 365 Agents Playground could not be started.',
  REQUEST_UNAUTHENTICATED: 'The request does not carry a valid Bot Framework token.',
  AUTH_KEYS_UNAVAILABLE: 'The Bot Framework signing keys could not be fetched, so the request could not be authenticated. Try again shortly.',
  REQUEST_FAILED: 'The request could not be handled.',
  DATABASE_UNAVAILABLE: 'The database could not be reached.',
  /** A turn or click while the database is away (failover, restart): the process stays up and says so. */
  SERVICE_BRIEFLY_UNAVAILABLE: 'The service is briefly unavailable. Nothing was lost; please try again in a minute.',
  /** Authorisation fails closed: the directory could not confirm membership recently enough. */
  OPS_UNCONFIRMED: 'We cannot confirm you are in NAS Operations right now, so nothing was changed. Please try again in a few minutes.',
  ALREADY_CLAIMED: 'Someone else is already reviewing this request.',
  EXPORT_UPLOAD_FAILED: 'The export could not be saved to your OneDrive. Nothing was recorded as exported.',
  /** ODS refused the bot (401/403: a missing or revoked API key) or answered like a wrong URL: a setting to fix, never a verdict. */
  ODS_MISCONFIGURED:
    'The NHS organisation data service refused the bot’s requests, so nothing could be checked. The bot’s administrators must fix its ODS settings; nothing was lost.',
  /** The NAS Operations workspace: no Teams sign-in token, or one that is not ours (forged, expired, another tenant or application). */
  WORKSPACE_UNAUTHENTICATED: 'Sign in through Microsoft Teams to use the NAS Operations workspace.',
  /** The tenant's signing keys could not be fetched, so no sign-in can be checked just now. */
  WORKSPACE_SIGN_IN_UNAVAILABLE: 'Sign-in cannot be checked right now. Nothing was changed; please try again shortly.',
} as const;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export class AppError extends Error {
  readonly code: ErrorCode;
  /** Safe to show to a user: specific detail written by us, never raw upstream text. */
  readonly userMessage: string;

  constructor(code: ErrorCode, detail?: string, options?: { cause?: unknown }) {
    // "That input could not be used." only prefaces nothing: a refusal with its own sentence says it all.
    const userMessage = !detail ? ERROR_CATALOGUE[code] : code === 'INVALID_INPUT' ? detail : `${ERROR_CATALOGUE[code]} ${detail}`;
    super(userMessage, options);
    this.name = 'AppError';
    this.code = code;
    this.userMessage = userMessage;
  }
}

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}

/**
 * The AppError behind a wrapped error, if any. botbuilder-dialogs wraps whatever a dialog
 * throws in a DialogContextError (the original in `.error`); others use `cause`.
 */
export function findAppError(error: unknown): AppError | undefined {
  for (let current: unknown = error, depth = 0; current && depth < 5; depth++) {
    if (isAppError(current)) return current;
    const wrapper = current as { error?: unknown; cause?: unknown };
    current = wrapper.error ?? wrapper.cause;
  }
  return undefined;
}

/**
 * What may be written to a log about an error: its class, our code and, for our own
 * errors, our own message. Foreign messages can quote input (addresses, SQL values) and
 * wrappers can carry dialog state, so they are reduced to their class name and any
 * machine code they carry.
 */
/** What a failed start-up prints: our own message, or only the error's class and code. */
export function startupFailureMessage(error: unknown): string {
  const appError = findAppError(error);
  return appError ? appError.userMessage : `Start-up failed: ${JSON.stringify(describeErrorForLog(error))}`;
}

export function describeErrorForLog(error: unknown): Record<string, string> {
  const appError = findAppError(error);
  if (appError) return { errorCode: appError.code, errorMessage: appError.userMessage };
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return { errorClass: error.name, ...(typeof code === 'string' ? { errorCode: code } : {}) };
  }
  return { errorClass: typeof error };
}
