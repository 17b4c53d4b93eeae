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
    super(message);
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
  bodyTooLarge: (limitBytes: number) =>
    new BbbError("validationError", `The request body is larger than ${Math.round(limitBytes / 1024 / 1024)} MB`),
  malformedBody: (why: string) => new BbbError("validationError", `The request body is malformed: ${why}`),
  noServer: () => new BbbError("serverUnavailable", "No server is available for a new meeting; try again later"),
  serverUnreachable: () => new BbbError("serverUnavailable", "The server hosting this meeting did not answer; try again"),
  internal: () => new BbbError("internalError", "The request could not be completed; try again"),
} as const;
