// Hop-by-hop headers (RFC 9110 §7.6.1) belong to one connection and never cross the gateway,
// in either direction, even where an allowlist would otherwise let one through.

export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

const NO_OPTIONS: ReadonlySet<string> = new Set();

/** The headers a Connection header names: hop-by-hop for this message too. */
export function connectionOptions(connection: string | string[] | undefined): ReadonlySet<string> {
  // The usual values name no header: skip the parsing on every request.
  if (connection === undefined || connection === 'keep-alive' || connection === 'close') {
    return NO_OPTIONS;
  }
  const names = new Set<string>();
  for (const value of [connection].flat()) {
    for (const option of value.split(',')) names.add(option.trim().toLowerCase());
  }
  return names;
}
