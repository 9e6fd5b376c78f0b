// Where a caller puts its key. LiteLLM takes a key from any of several headers, and prefers
// x-litellm-api-key (or its configured litellm_key_header_name) to Authorization. So the
// gateway reads every one of them: a request whose credential headers hold two different keys
// is refused, never checked as one key and billed as another. Whatever the caller used, only
// `Authorization: Bearer <the checked key>` goes upstream (request-headers.ts).
import type { IncomingHttpHeaders } from 'node:http';

/** The headers LiteLLM 1.108 reads a key from, besides a configured custom one. */
export const CREDENTIAL_HEADERS: readonly string[] = [
  'authorization', // OpenAI SDKs: "Bearer sk-…"
  'x-litellm-api-key', // LiteLLM's own: "Bearer sk-…" or "sk-…"
  'api-key', // Azure OpenAI SDKs
  'x-api-key', // Anthropic SDKs
  'x-goog-api-key', // Google AI Studio SDKs
  'ocp-apim-subscription-key', // Azure API Management
];

export type KeyReading =
  | { kind: 'key'; key: string }
  | { kind: 'none' }
  /** Two credential headers hold different values (named, never their values). */
  | { kind: 'conflict'; headers: readonly [string, string] }
  /** The only credential header present holds no usable key. */
  | { kind: 'malformed'; header: string };

const NONE: KeyReading = { kind: 'none' };
const MALFORMED_AUTHORIZATION: KeyReading = { kind: 'malformed', header: 'authorization' };

const BEARER = /^Bearer[ \t]+([^\s,]+)[ \t]*$/i;
/** A key is one token: no whitespace, and no comma (two headers of one name join with ", "). */
const TOKEN = /^[^\s,]+$/;

/** Reads the key from a request's credential headers (their names fixed at start). */
export class KeyReader {
  /** Lower-case names of every header a key is read from, the custom one included. */
  readonly headers: readonly string[];
  readonly #bearerOptional: ReadonlySet<string>;
  readonly #custom: string | undefined;

  /** `customHeader`: the header LiteLLM's `general_settings.litellm_key_header_name` names. */
  constructor(customHeader?: string) {
    const lower = customHeader?.toLowerCase();
    const custom = lower && !CREDENTIAL_HEADERS.includes(lower) ? lower : undefined;
    this.#custom = custom;
    this.headers = custom ? [...CREDENTIAL_HEADERS, custom] : CREDENTIAL_HEADERS;
    // LiteLLM strips an optional "Bearer " from these two, and takes the others as they are.
    this.#bearerOptional = new Set(['x-litellm-api-key', ...(custom ? [custom] : [])]);
  }

  read(headers: IncomingHttpHeaders): KeyReading {
    // The usual request: Authorization alone. Named loads, no loop, on the hot path.
    if (
      headers['x-litellm-api-key'] === undefined &&
      headers['api-key'] === undefined &&
      headers['x-api-key'] === undefined &&
      headers['x-goog-api-key'] === undefined &&
      headers['ocp-apim-subscription-key'] === undefined &&
      (this.#custom === undefined || headers[this.#custom] === undefined)
    ) {
      const authorization = headers.authorization;
      if (authorization === undefined || authorization.trim() === '') return NONE;
      const key = BEARER.exec(authorization)?.[1];
      return key === undefined ? MALFORMED_AUTHORIZATION : { kind: 'key', key };
    }
    return this.#readEvery(headers);
  }

  #readEvery(headers: IncomingHttpHeaders): KeyReading {
    let key: string | undefined;
    let from: string | undefined;
    let malformed: string | undefined;
    for (const name of this.headers) {
      const raw = headers[name];
      if (raw === undefined) continue;
      const value = (typeof raw === 'string' ? raw : raw.join(', ')).trim();
      if (value === '') continue;
      const found = this.#keyIn(name, value);
      if (found === undefined) {
        if (from !== undefined || malformed !== undefined) {
          return { kind: 'conflict', headers: [from ?? malformed!, name] };
        }
        malformed = name;
        continue;
      }
      if (malformed !== undefined) return { kind: 'conflict', headers: [malformed, name] };
      if (key === undefined) {
        key = found;
        from = name;
      } else if (found !== key) {
        return { kind: 'conflict', headers: [from!, name] };
      }
    }
    if (key !== undefined) return { kind: 'key', key };
    return malformed === undefined ? { kind: 'none' } : { kind: 'malformed', header: malformed };
  }

  #keyIn(name: string, value: string): string | undefined {
    if (name === 'authorization') return BEARER.exec(value)?.[1];
    if (this.#bearerOptional.has(name)) {
      const bearer = BEARER.exec(value);
      if (bearer) return bearer[1];
    }
    return TOKEN.test(value) ? value : undefined;
  }
}
