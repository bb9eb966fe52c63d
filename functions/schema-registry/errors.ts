/**
 * The registry could not be asked (network, timeout, 5xx, refused credentials): the batch
 * fails and the event source mapping retries it, so no record is judged without its schema.
 */
export class SchemaRegistryUnavailableError extends Error {
  override readonly name = 'SchemaRegistryUnavailableError';
  readonly retryable = true;
}

/** The decoder was asked to decode a value whose schema no `prepare` fetched: a wiring bug. */
export class SchemaNotPreparedError extends Error {
  override readonly name = 'SchemaNotPreparedError';
}
