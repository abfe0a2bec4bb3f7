/** A configuration problem, reported at start with the key that is wrong. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}
