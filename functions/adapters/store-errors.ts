/** Errors of WindowStore adapters; the use case lets them fail the batch, which is then retried. */
export class StoreConflictError extends Error {
  override readonly name = 'StoreConflictError';
}

export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
}
