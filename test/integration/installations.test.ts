// Two installations of the operator (two clusters, say staging and production) sharing one
// LiteLLM: each stamps its installation id into the teams, users and keys it makes, and with
// orphan collection `on` neither ever deletes, updates or adopts the other's. Here both run
// against one API server, each seeing only its own objects (a label selector each), which is
// exactly how another cluster's objects look to an operator: absent from its caches.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  INSTALLATION_KEY,
  ownerMetadata,
} from '../../operator/src/controllers/shared/ownership.ts';
import { CoreV1Api } from '@kubernetes/client-node';
import { ConfigError } from '../../contracts/config/env-fields.ts';
import { resolveInstallation } from '../../operator/src/installation.ts';
import { impersonating, kubeConfigFromInject } from '../harness/kube.ts';
import { start, type LiteLLMTestServer } from '../litellm-server/server.ts';
import {
  condition,
  KeyObjects,
  startKeyOperator,
  type KeyOperator,
} from './support/key-operator.ts';
import {
  conditionOf,
  Objects,
  poll,
  startUserOperator,
  suffix,
  TEST_RUN_LABEL,
  type UserOperator,
} from './support/user-operator.ts';

const MODELS = ['granite-3-8b'];

interface Installation {
  id: string;
  run: string;
  keys: KeyOperator;
  users: UserOperator;
  objects: KeyObjects;
  people: Objects;
}

async function gaugeValue(registry: Registry, name: string, kind: string) {
  const values = (await registry.getSingleMetric(name)?.get())?.values ?? [];
  return values.find((v) => v.labels.kind === kind)?.value;
}

describe('two installations sharing one LiteLLM', () => {
  let kc: KubeConfig;
  let litellm: LiteLLMTestServer;
  const installations: Installation[] = [];
  /** What the first test made in installation A. */
  let madeInA: { team: string; user: string; keyId: string } | undefined;

  async function install(id: string): Promise<Installation> {
    const run = suffix();
    const selector = `${TEST_RUN_LABEL}=${run}`;
    const keys = await startKeyOperator({
      kc,
      litellm,
      redisUrl: inject('redisUrl'),
      prefix: `test-${run}:`,
      labelSelector: selector,
      resyncIntervalMs: 500,
      installationId: id,
    });
    const users = await startUserOperator({
      kc,
      litellm,
      labelSelector: selector,
      resyncIntervalMs: 500,
      orphans: { mode: 'on', intervalMs: 200 },
      installationId: id,
    });
    const labels = { [TEST_RUN_LABEL]: run };
    const installation = {
      id,
      run,
      keys,
      users,
      objects: new KeyObjects(kc, labels),
      people: new Objects(kc, labels),
    };
    installations.push(installation);
    return installation;
  }

  /** A Team with a namespace and an Active subscription, a User, and a team key: all Ready. */
  async function world(at: Installation) {
    const { objects, people, run } = at;
    const team = `team-${run}`;
    await objects.namespace(team);
    await objects.teams.create(team, { namespaces: [team], models: ['*'] });
    await objects.subscription(team, 'granite', { model: 'granite-3-8b' });
    await objects.key(team, 'app', {});
    const user = `user-${run}`;
    await people.createUser(user, { role: 'user' });
    await expect
      .poll(async () => condition(await objects.getKey(team, 'app')), poll)
      .toBe('True/KeyReady');
    await expect
      .poll(async () => conditionOf(await people.user(user), 'Ready'), poll)
      .toBe('True/Reconciled');
    const keyId = (await objects.getKey(team, 'app'))!.status!.keyId!;
    return { team, user, keyId };
  }

  beforeAll(async () => {
    kc = kubeConfigFromInject();
    litellm = await start({ masterKey: 'sk-master-installations', models: MODELS });
  });
  afterAll(async () => {
    await Promise.allSettled(installations.flatMap((i) => [i.keys.stop(), i.users.stop()]));
    await litellm?.stop();
  });

  it("never deletes, updates or adopts the other installation's teams, users and keys", async () => {
    const a = await install('install-a');
    const b = await install('install-b');
    const [inA, inB] = await Promise.all([world(a), world(b)]);
    madeInA = inA;

    // What each made carries its own id.
    const installationOf = (metadata: unknown) =>
      (metadata as Record<string, unknown> | undefined)?.[INSTALLATION_KEY];
    expect(installationOf(litellm.store.teams.get(inA.team)?.metadata)).toBe('install-a');
    expect(installationOf(litellm.store.teams.get(inB.team)?.metadata)).toBe('install-b');
    expect(installationOf(litellm.store.users.get(inA.user)?.metadata)).toBe('install-a');
    expect(installationOf(litellm.store.users.get(inB.user)?.metadata)).toBe('install-b');
    expect(installationOf(litellm.store.keys.get(inA.keyId)?.metadata)).toBe('install-a');
    expect(installationOf(litellm.store.keys.get(inB.keyId)?.metadata)).toBe('install-b');

    // Orphans: one of each installation's (collected by that one alone), and one made before
    // installation ids existed (collected by neither: whose it is cannot be proven).
    const ghost = (installation: string) =>
      ownerMetadata({
        kind: 'Team',
        name: `ghost-${installation}`,
        uid: `uid-${installation}`,
        installation,
      });
    litellm.store.newTeam({ team_id: `ghost-a-${a.run}`, metadata: ghost('install-a') });
    litellm.store.newTeam({ team_id: `ghost-b-${b.run}`, metadata: ghost('install-b') });
    const { [INSTALLATION_KEY]: _none, ...legacy } = ghost('legacy');
    litellm.store.newTeam({ team_id: `ghost-legacy-${a.run}`, metadata: legacy });

    await expect.poll(() => litellm.store.teams.has(`ghost-a-${a.run}`), poll).toBe(false);
    await expect.poll(() => litellm.store.teams.has(`ghost-b-${b.run}`), poll).toBe(false);
    await expect
      .poll(() => gaugeValue(a.users.registry, 'llm_tenancy_orphans_unclaimed', 'team'), poll)
      .toBeGreaterThanOrEqual(1);

    // Several more passes of both collectors and several resyncs of every controller: nothing
    // of the other's is deleted, and nothing is written at all (no tug of war over fields).
    litellm.calls.reset();
    await expect
      .poll(() => litellm.calls.count('GET', '/team/list'), poll)
      .toBeGreaterThanOrEqual(6);
    await expect
      .poll(() => litellm.calls.count('GET', '/key/info'), poll)
      .toBeGreaterThanOrEqual(6);
    for (const route of [
      '/team/delete',
      '/user/delete',
      '/key/delete',
      '/team/update',
      '/user/update',
      '/key/update',
    ]) {
      expect(litellm.calls.count('POST', route), route).toBe(0);
    }
    expect(litellm.store.teams.has(`ghost-legacy-${a.run}`)).toBe(true);
    for (const { team, user, keyId } of [inA, inB]) {
      expect(litellm.store.teams.has(team)).toBe(true);
      expect(litellm.store.users.has(user)).toBe(true);
      expect(litellm.store.keys.get(keyId)?.blocked ?? false).toBe(false);
    }
  });

  it("reports another installation's team and user of the same name as a conflict, never taking them", async () => {
    const a = installations.find((i) => i.id === 'install-a') ?? (await install('install-a'));
    const name = `shared-${a.run}`;
    // Another cluster's Team and User of this very name already hold the LiteLLM ids.
    const theirs = (kind: string) =>
      ownerMetadata({ kind, name, uid: `their-uid-${kind}`, installation: 'install-other' });
    litellm.store.newTeam({ team_id: name, metadata: theirs('Team') });
    litellm.store.newUser({ user_id: name, metadata: theirs('User') });
    litellm.calls.reset();

    // Even with the adopt annotation: that is for objects llm-tenancy did not make.
    await a.objects.teams.create(
      name,
      { models: ['*'] },
      {
        annotations: { 'llmtenancy.dev/adopt': 'true' },
      },
    );
    await a.people.createUser(
      name,
      { role: 'user' },
      {
        annotations: { 'llmtenancy.dev/adopt': 'true' },
      },
    );
    await expect
      .poll(async () => condition(await a.objects.teams.get(name)), poll)
      .toBe('False/LiteLLMTeamConflict');
    await expect
      .poll(async () => conditionOf(await a.people.user(name), 'Ready'), poll)
      .toBe('False/LiteLLMUserConflict');
    const message = (await a.objects.teams.get(name))!.status!.conditions!.find(
      (c) => c.type === 'Ready',
    )!.message;
    expect(message).toContain('another llm-tenancy installation (install-other)');

    expect(litellm.calls.count('POST', '/team/update')).toBe(0);
    expect(litellm.calls.count('POST', '/user/update')).toBe(0);
    expect(litellm.calls.count('POST', '/team/member_add')).toBe(0);
    expect(installationOf(litellm.store.teams.get(name)?.metadata)).toBe('install-other');
    expect(installationOf(litellm.store.users.get(name)?.metadata)).toBe('install-other');

    // Deleting ours leaves theirs in place.
    await a.objects.teams.delete(name);
    await a.people.deleteUser(name);
    await expect.poll(() => a.objects.teams.get(name), poll).toBeUndefined();
    await expect.poll(() => a.people.user(name), poll).toBeUndefined();
    expect(litellm.store.teams.has(name)).toBe(true);
    expect(litellm.store.users.has(name)).toBe(true);
  });

  it('claims what it made before installation ids: its live objects get its id, nothing is lost', async () => {
    const a = installations.find((i) => i.id === 'install-a') ?? (await install('install-a'));
    // Its team and key, as an operator before installation ids left them: claimed on resync.
    expect(madeInA).toBeDefined(); // by the first test
    const made = madeInA!;
    for (const row of [litellm.store.teams.get(made.team)!, litellm.store.keys.get(made.keyId)!]) {
      const { [INSTALLATION_KEY]: _id, ...legacy } = row.metadata as Record<string, unknown>;
      row.metadata = legacy;
    }
    await expect
      .poll(
        () => [
          installationOf(litellm.store.teams.get(made.team)?.metadata),
          installationOf(litellm.store.keys.get(made.keyId)?.metadata),
        ],
        poll,
      )
      .toEqual(['install-a', 'install-a']);
    const upgraded = `upgraded-${a.run}`;
    await a.people.createUser(upgraded, { role: 'user' });
    await expect
      .poll(async () => conditionOf(await a.people.user(upgraded), 'Ready'), poll)
      .toBe('True/Reconciled');
    // As an operator before installation ids left it.
    const row = litellm.store.users.get(upgraded)!;
    const { [INSTALLATION_KEY]: _id, ...legacy } = row.metadata;
    row.metadata = legacy;
    await expect
      .poll(() => installationOf(litellm.store.users.get(upgraded)?.metadata), poll)
      .toBe('install-a');

    // A legacy object of a deleted-and-recreated User of this name is adopted and claimed.
    const recreated = `recreated-${a.run}`;
    const { [INSTALLATION_KEY]: _none, ...before } = ownerMetadata({
      kind: 'User',
      name: recreated,
      uid: 'uid-of-an-earlier-user',
      installation: 'unused',
    });
    litellm.store.newUser({ user_id: recreated, metadata: before });
    await a.people.createUser(recreated, { role: 'user' });
    await expect
      .poll(async () => conditionOf(await a.people.user(recreated), 'Ready'), poll)
      .toBe('True/Reconciled');
    expect(installationOf(litellm.store.users.get(recreated)?.metadata)).toBe('install-a');
    expect(litellm.store.users.get(recreated)?.metadata['llmtenancy.dev/uid']).toBe(
      (await a.people.user(recreated))!.metadata.uid,
    );
  });
});

describe('the installation id', () => {
  it('is the kube-system namespace uid unless INSTALLATION_ID is set', async () => {
    const kc = kubeConfigFromInject();
    const kubeSystem = await kc.makeApiClient(CoreV1Api).readNamespace({ name: 'kube-system' });
    expect(await resolveInstallation(undefined, kc)).toEqual({
      id: kubeSystem.metadata!.uid,
      source: 'kube-system namespace uid',
    });
    expect(await resolveInstallation('prod-eu-1', kc)).toEqual({
      id: 'prod-eu-1',
      source: 'INSTALLATION_ID',
    });
  });

  it('stops the start with a message naming the permission when kube-system cannot be read', async () => {
    const nobody = impersonating(kubeConfigFromInject(), 'someone-without-rbac');
    const failure = await resolveInstallation(undefined, nobody).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(ConfigError);
    expect((failure as Error).message).toContain('get on namespaces/kube-system');
    expect((failure as Error).message).toContain('403');
  });
});

function installationOf(metadata: unknown): unknown {
  return (metadata as Record<string, unknown> | undefined)?.[INSTALLATION_KEY];
}
