/** An error meant for the API's client: an HTTP status, a stable code and a sentence. */
export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}
