// An HTTP Retry-After header in milliseconds, for every client of both programs that honours
// one (the LiteLLM client, the webhooks).

/**
 * Milliseconds from an HTTP Retry-After header: delta-seconds ("120") or an HTTP date.
 * Undefined when absent or unparseable (then ordinary backoff applies).
 */
export function parseRetryAfter(
  header: string | null | undefined,
  now = Date.now(),
): number | undefined {
  if (!header) return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}
