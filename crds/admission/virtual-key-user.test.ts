import { describe, expect, it } from 'vitest';
import { userObjectName } from '../../contracts/identity/user-object-name.ts';
import { VirtualKeySpec } from '../api/virtual-key.ts';
import { adminGroupsExpression, virtualKeyUserPolicy } from './virtual-key-user.ts';

// The policy's `self` rule is `request.userInfo.username == object.spec.user`. That is the
// login → User name rule exactly when every login the CRD accepts as spec.user is one the rule
// keeps as it is (and every login it keeps, the CRD accepts): then equality means "this login's
// User", and a login the rule hashes can never equal a valid spec.user.
describe('the policy’s self rule and the login → User name rule', () => {
  const specUser = (user: string) =>
    VirtualKeySpec.safeParse({ user, requireAllModels: true, suspended: false }).success;

  it.each([
    'alice',
    'alice.smith',
    'a1-b2.c3',
    'a'.repeat(253),
    'a'.repeat(254),
    'Alice',
    'alice@example.com',
    'oidc:alice',
    'system:serviceaccount:ns:sa',
    '-alice',
    'alice-',
    'al_ice',
    'a..b',
    '.alice',
    'alice.',
    'ALICE',
    'alice smith',
    'ålice',
  ])('%s: accepted as spec.user exactly when the rule keeps it', (login) => {
    expect(specUser(login)).toBe(userObjectName(login) === login);
  });
});

describe('virtualKeyUserPolicy', () => {
  it('names the admin groups as a CEL list of quoted strings', () => {
    expect(adminGroupsExpression(['platform-admins', "o'brien\\x"])).toBe(
      "['platform-admins', 'o\\'brien\\\\x']",
    );
    const policy = virtualKeyUserPolicy(['a', 'b']);
    expect(policy.spec.variables[0]).toEqual({ name: 'adminGroups', expression: "['a', 'b']" });
  });
});
