/**
 * The two ways a call can fail: the server answered with an error ({@link GoferApiError}), or no usable answer
 * came back at all ({@link GoferConnectionError}). Callers branch on the class; an aborted `signal` is neither and
 * rethrows the signal's reason unchanged.
 */

/** What the server said about a failed request, taken from its v0 error envelope when it sent one. */
export interface GoferApiErrorDetails {
  errorCode?: string | undefined;
  requestId?: string | undefined;
}

/** The server answered with a non-2xx status. `message` is the server's own message, written for people. */
export class GoferApiError extends Error {
  override name = "GoferApiError";
  /** The HTTP status, e.g. `404`. */
  readonly status: number;
  /** The stable code from the envelope (`NOT_FOUND`, `UNAUTHENTICATED`, …); absent when the body was no envelope. */
  readonly errorCode?: string;
  /** The server's id for the request, to find it in the server log. */
  readonly requestId?: string;

  constructor(status: number, message: string, details: GoferApiErrorDetails = {}) {
    super(message);
    this.status = status;
    if (details.errorCode !== undefined) this.errorCode = details.errorCode;
    if (details.requestId !== undefined) this.requestId = details.requestId;
  }
}

export interface GoferConnectionErrorOptions {
  /** The request got no answer within the client's `timeoutMs`. */
  timedOut?: boolean;
  cause?: unknown;
}

/**
 * No usable answer from the server: it could not be reached, it did not answer in time, a stream broke off, or
 * what answered does not speak Gofer's API. The message names the URL and what to check.
 */
export class GoferConnectionError extends Error {
  override name = "GoferConnectionError";
  /** The `baseUrl` the client was configured with. */
  readonly baseUrl: string;
  /** Whether the client gave up waiting (`timeoutMs`) rather than being refused or cut off. */
  readonly timedOut: boolean;

  constructor(message: string, baseUrl: string, options: GoferConnectionErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.baseUrl = baseUrl;
    this.timedOut = options.timedOut ?? false;
  }
}
