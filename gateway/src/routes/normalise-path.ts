// The request path as the gateway decides on it and forwards it: percent-decoded once, each
// segment re-encoded in one canonical way, so LiteLLM (which decodes the path again) routes on
// exactly the segments the gateway checked. Anything two parsers could read differently is
// refused instead of guessed at: an encoded slash or backslash (one segment here, two there),
// dot segments (resolved by some servers, not others), empty segments (`//`, which some
// servers merge), malformed escapes and control characters.

export type NormalisedPath =
  { ok: true; path: string; query: string } | { ok: false; problem: string };

/** Characters that may stand unescaped in a path segment (RFC 3986 pchar without '%'). */
const CANONICAL = /^[A-Za-z0-9\-._~!$&'()*+,;=:@/]*$/;
const ENCODED_SEPARATOR = /%(2f|5c)/i;
// eslint-disable-next-line no-control-regex -- control characters are what it looks for
const CONTROL = /[\u0000-\u001f\u007f]/;
/** encodeURIComponent escapes these, though a path segment may carry them as they are. */
const NEEDLESSLY_ESCAPED = /%(3A|40|24|26|2B|2C|3B|3D)/g;

/**
 * Splits `url` (a request target as received) into its normalised path and its query
 * (with the `?`, or ""), or says why the path is refused.
 */
export function normalisePath(url: string): NormalisedPath {
  const q = url.indexOf('?');
  const raw = q === -1 ? url : url.slice(0, q);
  const query = q === -1 ? '' : url.slice(q);
  if (raw.charCodeAt(0) !== 0x2f) return { ok: false, problem: 'the path must start with "/"' };
  if (raw === '/') return { ok: true, path: raw, query };
  // The usual request (/v1/chat/completions) is canonical already: one regex test.
  if (
    CANONICAL.test(raw) &&
    !raw.includes('//') &&
    !raw.includes('/.') &&
    raw.charCodeAt(raw.length - 1) !== 0x2f
  ) {
    return { ok: true, path: raw, query };
  }
  const segments = raw.slice(1).split('/');
  const out: string[] = [];
  for (const segment of segments) {
    if (segment === '') return { ok: false, problem: 'the path has an empty segment ("//")' };
    if (ENCODED_SEPARATOR.test(segment)) {
      return { ok: false, problem: 'the path has an encoded slash or backslash (%2F, %5C)' };
    }
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      return { ok: false, problem: 'the path has a malformed percent-encoding' };
    }
    if (decoded.includes('\\')) return { ok: false, problem: 'the path has a backslash' };
    if (decoded === '.' || decoded === '..') {
      return { ok: false, problem: 'the path has a dot segment ("." or "..")' };
    }
    if (CONTROL.test(decoded)) return { ok: false, problem: 'the path has a control character' };
    out.push(encodeSegment(decoded));
  }
  return { ok: true, path: `/${out.join('/')}`, query };
}

function encodeSegment(decoded: string): string {
  return encodeURIComponent(decoded).replace(NEEDLESSLY_ESCAPED, (escape) =>
    decodeURIComponent(escape),
  );
}
