/** Thrown by pure core code when its configuration is impossible (caught at cold start). */
export class CoreConfigError extends Error {
  override readonly name = 'CoreConfigError';
}
