// The User object name for a login name (an OpenShift user name, an e-mail, an OIDC
// preferred_username). Group sync uses it to name the members of an OpenShift Group and the
// gateway uses it when it creates a User at first login, so both agree on who is who.
//
// A name that is already a valid Kubernetes object name is used as it is. Anything else is
// lower-cased, has every run of other characters replaced by "-", and gets a short hash of
// the original appended, so "Alice@Example.com" and "alice-example.com" never collide.
import { createHash } from 'node:crypto';

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const MAX = 253;

export function userObjectName(login: string): string {
  if (login.length <= MAX && DNS_SUBDOMAIN.test(login)) return login;
  const hash = createHash('sha256').update(login).digest('hex').slice(0, 8);
  const stem = login
    .toLowerCase()
    .replace(/[^a-z0-9.]+/g, '-')
    .replace(/\.{2,}/g, '.')
    .replace(/-*\.-*/g, '.')
    .replace(/^[-.]+|[-.]+$/g, '')
    .slice(0, MAX - hash.length - 1)
    .replace(/[-.]+$/, '');
  return stem ? `${stem}-${hash}` : `user-${hash}`;
}
