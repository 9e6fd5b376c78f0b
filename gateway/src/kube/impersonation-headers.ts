// The Impersonate-* headers that make the API server treat a gateway request as the person's
// own (https://kubernetes.io/docs/reference/access-authn-authz/authentication/#user-impersonation):
//   Impersonate-User       the user name, once;
//   Impersonate-Group      one header per group: the API server reads every header line as one
//                          group and never splits a value on commas, so a group "a,b" stays
//                          one group;
//   Impersonate-Extra-<k>  one header per value; <k> is case-insensitive and percent-encoded
//                          (UTF-8) where it holds a byte that is not an HTTP token character,
//                          as client-go does; the API server unescapes it. Values are not.
// A value the API server would read differently from what the gateway meant is refused here,
// never sent: a CR or LF (a header of its own), other control characters, and white space at
// either end (Go trims it, so " llm-tenancy-admins" would become that group). Non-ASCII text
// is sent as its UTF-8 bytes, as Go reads it.
import type { Impersonation } from '../signin/principal.ts';

export class ImpersonationRefused extends Error {
  override readonly name = 'ImpersonationRefused';
}

export type ImpersonationHeaders = Record<string, string | string[]>;

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
/** RFC 9110 tchar, minus '%', which the API server reads as the start of an escape. */
const TOKEN_BYTE = /^[!#$&'*+\-.^_`|~0-9A-Za-z]$/;

export function impersonationHeaders(as: Impersonation): ImpersonationHeaders {
  const headers: ImpersonationHeaders = { 'impersonate-user': headerValue('user name', as.user) };
  if (as.groups.length > 0) {
    headers['impersonate-group'] = as.groups.map((group) => headerValue('group', group));
  }
  for (const [key, values] of Object.entries(as.extra)) {
    if (key === '') throw new ImpersonationRefused('an impersonated extra has an empty key');
    if (values.length === 0) continue;
    headers[`impersonate-extra-${escapeExtraKey(key.toLowerCase())}`] = values.map((value) =>
      headerValue(`extra ${key}`, value),
    );
  }
  return headers;
}

/** Percent-encodes every UTF-8 byte of `key` that is not an HTTP token character. */
export function escapeExtraKey(key: string): string {
  let escaped = '';
  for (const byte of Buffer.from(key, 'utf8')) {
    const char = String.fromCharCode(byte);
    escaped += TOKEN_BYTE.test(char)
      ? char
      : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return escaped;
}

function headerValue(what: string, value: string): string {
  if (value === '') throw new ImpersonationRefused(`the impersonated ${what} is empty`);
  if (CONTROL.test(value)) {
    throw new ImpersonationRefused(`the impersonated ${what} holds a control character`);
  }
  if (value.trim() !== value) {
    throw new ImpersonationRefused(`the impersonated ${what} begins or ends with white space`);
  }
  // Node writes header strings as latin1: one character per byte, so these are UTF-8 bytes.
  return Buffer.from(value, 'utf8').toString('latin1');
}
