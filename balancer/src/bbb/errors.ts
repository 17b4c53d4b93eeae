/**
 * A BBB API error: whatever throws it, the client gets BBB's `FAILED` document with this messageKey and message
 * (HTTP 200), or for a redirecting join the redirect BBB would send.
 */
export class BbbError extends Error {
  override readonly name = "BbbError";
  constructor(
    readonly messageKey: string,
    message: string,
  ) {
    // An answer to a client, not a fault to debug: no stack is captured (7 µs each, and a third of a rush's joins
    // are answered "not yet created").
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = stackTraceLimit;
  }
}

/**
 * A node that did not answer a call (down, hung past the timeout, or answering something that is not BBB's XML):
 * for a create, a reason to try another node; for the client, BBB's `serverUnavailable`.
 */
export class NodeUnansweredError extends BbbError {
  constructor() {
    super("serverUnavailable", "The server hosting this meeting did not answer; try again");
  }
}

/** The errors the balancer itself raises, with bbb-web's wording where bbb-web has one. */
export const bbbErrors = {
  checksumMissing: () => new BbbError("checksumError", "You must provide the checksum"),
  checksumMismatch: () => new BbbError("checksumError", "Checksums do not match"),
  missingMeetingId: () => new BbbError("missingParamMeetingID", "You must provide a meeting ID"),
  invalidMeetingId: () => new BbbError("validationError", "Meeting ID must be between 2 and 256 characters and must not contain commas"),
  missingFullName: () => new BbbError("missingParamFullName", "You must provide your name"),
  notFound: () => new BbbError("notFound", "A meeting with that ID does not exist"),
  joinNotFound: () => new BbbError("invalidMeetingIdentifier", "A meeting with that ID does not exist"),
  unsupported: () => new BbbError("unsupportedRequest", "This request is not supported."),
  /** A call sent with a method bbb-web does not route to it (UrlMappings.groovy). */
  methodNotAccepted: (call: string, method: string, accepted: readonly string[]) =>
    new BbbError("unsupportedRequest", `${call} does not accept ${method} requests; send it as ${accepted.join(" or ")}`),
  /** A POST whose query is signed while its form adds parameters the checksum does not cover. */
  unsignedForm: () =>
    new BbbError("checksumError", "Form parameters are not covered by the checksum: send them in the query string, or sign a form-only request"),
  bodyTooLarge: (limitBytes: number) =>
    new BbbError("validationError", `The request body is larger than ${limitBytes >= 2 ** 20 ? `${limitBytes / 2 ** 20} MiB` : `${limitBytes / 2 ** 10} KiB`}`),
  bodyTimeout: (limitMs: number) => new BbbError("validationError", `The request body did not arrive within ${limitMs / 1000} s`),
  repeatedParameter: (name: string) =>
    new BbbError("validationError", `The parameter ${name} is given more than once; give each parameter once`),
  malformedBody: (why: string) => new BbbError("validationError", `The request body is malformed: ${why}`),
  noServer: () => new BbbError("serverUnavailable", "No server is available for a new meeting; try again later"),
  /** Scalelite's answer (app/controllers/concerns/bbb_errors.rb) when no node has a required `meta_server-tag`. */
  serverTagUnavailable: (tags: string) => new BbbError("serverTagUnavailable", `There is no available server with the required tag=${tags}.`),
  /** bbb-web's answer to a join of a full meeting (ApiController.groovy, join): here a full attendee limit. */
  maxParticipantsReached: () => new BbbError("maxParticipantsReached", "The number of participants allowed for this meeting has been reached."),
  serverUnreachable: () => new NodeUnansweredError(),
  internal: () => new BbbError("internalError", "The request could not be completed; try again"),
} as const;
