/** A file the reader cannot read as readings: the CLI prints the message (one line) and exits 2. */
export class InputFormatError extends Error {
  override readonly name = 'InputFormatError';
}
