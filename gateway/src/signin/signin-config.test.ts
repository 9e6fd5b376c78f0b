import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { roleFor } from './role-mapping.ts';
import { matchesTeamGroups } from './team-group-patterns.ts';
import { parseSigninConfig } from './signin-config.ts';
import { safeReturnTo } from './people-side.ts';

const dir = mkdtempSync(join(tmpdir(), 'signin-config-'));
const file = (name: string, content: string) => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};
const clientSecret = file('client-secret', 'the-client-secret\n');
const sessionSecret = file('session-secret', 'x'.repeat(48));

const oidcEnv = {
  SIGNIN_PROVIDER: 'oidc',
  PUBLIC_URL: 'https://llm.example.com/',
  OIDC_ISSUER_URL: 'https://dex.example.com',
  OIDC_CLIENT_ID: 'llm-tenancy',
  OIDC_CLIENT_SECRET_FILE: clientSecret,
  SESSION_SECRET_FILE: sessionSecret,
};

function parse(env: Record<string, string>) {
  const problems: string[] = [];
  return { config: parseSigninConfig(env, problems), problems };
}

describe('parseSigninConfig', () => {
  it('reads an OpenID provider setup, secrets from their files', () => {
    const { config, problems } = parse({
      ...oidcEnv,
      ROLE_GROUPS: 'admin=platform-admins, ops; manager=team-leads',
      DEFAULT_ROLE: 'viewer',
      AUTO_PROVISION: 'false',
      SESSION_IDLE_LIFETIME: '30m',
      USER_READY_TIMEOUT: '10s',
      USERNAME_PREFIX: 'oidc:',
    });
    expect(problems).toEqual([]);
    expect(config).toMatchObject({
      provider: 'oidc',
      login: {
        serverUrl: 'https://dex.example.com',
        clientId: 'llm-tenancy',
        clientSecret: 'the-client-secret',
        redirectUrl: 'https://llm.example.com/auth/callback',
        scopes: 'openid email profile groups',
        usernameClaim: 'email',
        groupsClaim: 'groups',
      },
      sessions: { secret: 'x'.repeat(48), cookieSecure: true, idleLifetimeMs: 1_800_000 },
      roleGroups: { admin: ['platform-admins', 'ops'], manager: ['team-leads'] },
      defaultRole: 'viewer',
      autoProvision: false,
      userReadyTimeoutMs: 10_000,
      usernamePrefix: 'oidc:',
    });
  });

  it('names every missing or bad variable', () => {
    const { config, problems } = parse({
      SIGNIN_PROVIDER: 'oidc',
      OIDC_CLIENT_SECRET_FILE: join(dir, 'absent'),
      ROLE_GROUPS: 'boss=x;admin=',
      DEFAULT_ROLE: 'root',
    });
    expect(config).toBeUndefined();
    expect(problems).toEqual(['DEFAULT_ROLE: must be admin, manager, user or viewer']);
    const second = parse({
      ...oidcEnv,
      OIDC_ISSUER_URL: '',
      PUBLIC_URL: '',
      OIDC_CLIENT_SECRET_FILE: join(dir, 'absent'),
      ROLE_GROUPS: 'boss=x;admin=',
    });
    expect(second.config).toBeUndefined();
    expect(second.problems).toEqual([
      'ROLE_GROUPS: "boss=x" is not role=group,group with a role of admin, manager, user, viewer (like "admin=platform-admins;manager=team-leads")',
      'ROLE_GROUPS: "admin=" is not role=group,group with a role of admin, manager, user, viewer (like "admin=platform-admins;manager=team-leads")',
      'OIDC_ISSUER_URL: is required with SIGNIN_PROVIDER=oidc: the OpenID provider, e.g. https://dex.example.com',
      "PUBLIC_URL: is required with SIGNIN_PROVIDER=oidc: the gateway's URL as browsers reach it",
      'OIDC_CLIENT_SECRET_FILE: cannot read ' + join(dir, 'absent') + ' (ENOENT)',
    ]);
  });

  it('refuses http and short session secrets unless told', () => {
    const http = { ...oidcEnv, OIDC_ISSUER_URL: 'http://127.0.0.1:5556' };
    expect(parse(http).problems).toEqual([
      'OIDC_ISSUER_URL: must be https (set SIGNIN_ALLOW_HTTP=true for local development)',
    ]);
    expect(parse({ ...http, SIGNIN_ALLOW_HTTP: 'true' }).problems).toEqual([]);
    expect(parse({ ...oidcEnv, SESSION_SECRET_FILE: file('short', 'short') }).problems).toEqual([
      'SESSION_SECRET_FILE: must hold at least 32 bytes (openssl rand -base64 48)',
    ]);
    expect(parse({ ...oidcEnv, OIDC_SCOPES: 'email' }).problems).toEqual([
      'OIDC_SCOPES: must include openid',
    ]);
  });

  it('reads OpenShift from its API server, with the user:info scope', () => {
    const { config, problems } = parse({
      ...oidcEnv,
      OIDC_ISSUER_URL: '',
      SIGNIN_PROVIDER: 'openshift',
      OPENSHIFT_API_URL: 'https://api.ocp.example.com:6443',
    });
    expect(problems).toEqual([]);
    expect(config?.login).toMatchObject({
      serverUrl: 'https://api.ocp.example.com:6443',
      scopes: 'user:info',
    });
  });

  it('creates no Teams by default; SIGNIN_AUTO_CREATE_TEAMS needs the groups that get one', () => {
    expect(parse(oidcEnv).config?.teamGroups).toBeUndefined();
    // The patterns alone turn nothing on.
    expect(parse({ ...oidcEnv, SIGNIN_TEAM_GROUPS: 'team-*' }).config?.teamGroups).toBeUndefined();
    const on = parse({
      ...oidcEnv,
      SIGNIN_AUTO_CREATE_TEAMS: 'true',
      SIGNIN_TEAM_GROUPS: ' team-*, /org/ml ,',
    });
    expect(on.problems).toEqual([]);
    expect(on.config?.teamGroups).toEqual(['team-*', '/org/ml']);
    expect(parse({ ...oidcEnv, SIGNIN_AUTO_CREATE_TEAMS: 'true' }).problems).toEqual([
      'SIGNIN_TEAM_GROUPS: is required with SIGNIN_AUTO_CREATE_TEAMS=true: the groups that get a Team, like "team-*,ml-research" ("*" alone for every group)',
    ]);
    expect(
      parse({
        ...oidcEnv,
        SIGNIN_AUTO_CREATE_TEAMS: 'true',
        SIGNIN_TEAM_GROUPS: `ok,${'x'.repeat(254)}`,
      }).problems,
    ).toEqual([
      `SIGNIN_TEAM_GROUPS: "${'x'.repeat(80)}" is not a group pattern (no spaces, at most 253 characters, "*" for any run of characters)`,
    ]);
    expect(parse({ ...oidcEnv, SIGNIN_AUTO_CREATE_TEAMS: 'yes please' }).problems).toEqual([
      expect.stringMatching(/^SIGNIN_AUTO_CREATE_TEAMS: /),
    ]);
  });

  it('needs nothing with sign-in off; the master key is a file', () => {
    const { config, problems } = parse({ LITELLM_MASTER_KEY_FILE: '/etc/litellm/master-key' });
    expect(problems).toEqual([]);
    expect(config).toMatchObject({ provider: 'off', masterKeyFile: '/etc/litellm/master-key' });
    expect(config?.login).toBeUndefined();
  });
});

describe('roleFor', () => {
  const mapping = { admin: ['platform-admins'], manager: ['team-leads'], viewer: ['auditors'] };
  it('takes the highest role any group grants, else the default', () => {
    expect(roleFor(['auditors', 'team-leads'], mapping, 'user')).toBe('manager');
    expect(roleFor(['platform-admins', 'auditors'], mapping, 'user')).toBe('admin');
    expect(roleFor(['auditors'], mapping, 'user')).toBe('viewer');
    expect(roleFor(['other'], mapping, 'user')).toBe('user');
  });
});

describe('matchesTeamGroups', () => {
  it('matches whole group names, "*" for any run of characters, case-sensitively', () => {
    const patterns = ['team-*', '/org/*/ml', 'exact'];
    for (const group of ['team-', 'team-a', 'team-a.b/c', '/org/x/ml', '/org/a/b/ml', 'exact'])
      expect(matchesTeamGroups(group, patterns)).toBe(true);
    for (const group of ['Team-a', 'a-team-b', 'exactly', '/org/x/ml2', 'xexact', ''])
      expect(matchesTeamGroups(group, patterns)).toBe(false);
    expect(matchesTeamGroups('anything at all', ['*'])).toBe(true);
    expect(matchesTeamGroups('a.b', ['a?b'])).toBe(false);
    expect(matchesTeamGroups('a'.repeat(300), ['*a*a*a*a*b'])).toBe(false);
  });
});

describe('safeReturnTo', () => {
  it('keeps paths on this gateway only', () => {
    expect(safeReturnTo('/ui/keys?x=1')).toBe('/ui/keys?x=1');
    for (const bad of [
      '//evil.example',
      'https://evil.example/',
      '/\\evil.example',
      undefined,
      'ui',
    ]) {
      expect(safeReturnTo(bad)).toBe('/');
    }
  });
});
