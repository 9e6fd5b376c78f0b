// kubectl llm usage, the real executable logged in (kubectl llm login, through the browser
// flow) to a real gateway that signs in with the in-process OpenID provider, acts as the
// person on the real API server (RBAC decides who sees which usage) and reads the
// LiteLLM-compatible test server's daily spend analytics with the master key. The spend is
// booked into the test server's daily rows directly, so every figure printed is known.
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { TokenCache, type CachedToken } from '../../cli/gateway/token-cache.ts';
import type { Team, User } from '../../crds/api/index.ts';
import type { RunningGateway } from '../../gateway/src/server.ts';
import { uniqueNamespace } from '../harness/kube.ts';
import { authorizeAs } from '../harness/oidc-login.ts';
import { ClusterObjects } from './support/cluster-objects.ts';
import { kubectlLlm, startKubectlLlm } from './support/kubectl-llm.ts';
import {
  Browser,
  customObjects,
  finishLogin,
  startSigninBed,
  type SigninBed,
} from './support/signin-bed.ts';
import { TEST_RUN_LABEL } from './support/user-operator.ts';

const GROUP = 'llmtenancy.dev';
const VERSION = 'v1alpha1';

describe('kubectl llm usage', () => {
  let bed: SigninBed;
  let gateway: RunningGateway;
  let kubeconfig: string;
  let namespace: string;
  let alice: string;
  let bob: string;
  let team: string;
  /** Homes (token caches) of people logged in through the CLI. */
  const homes: Record<string, string> = {};
  const today = new Date();
  const day = (daysBack: number) =>
    new Date(today.getTime() - daysBack * 86_400_000).toISOString().slice(0, 10);
  const env = (dir: string, gatewayUrl = gateway.url) => ({
    HOME: dir,
    KUBECTL_LLM_GATEWAY: gatewayUrl,
  });
  const usage = (who: string, args: string[]) =>
    kubectlLlm(kubeconfig, ['usage', ...args], env(homes[who]!));

  /** kubectl llm login --no-browser, with the browser's part done over plain HTTP. */
  async function cliLogin(login: string): Promise<string> {
    const dir = mkdtempSync(join(tmpdir(), 'cli-usage-home-'));
    const running = startKubectlLlm(kubeconfig, ['login', '--no-browser'], env(dir));
    const [url] = await running.stderrMatch(/http:\/\/\S+\/auth\/cli\/login\?\S+/);
    const browser = new Browser();
    const start = await browser.fetch(url);
    expect(start.status).toBe(302);
    const back = await finishLogin(
      gateway,
      browser,
      await authorizeAs(start.headers.get('location')!, login),
    );
    expect(back.status, await back.clone().text()).toBe(303);
    await fetch(back.headers.get('location')!);
    const done = await running.done;
    expect(done.code, done.stderr).toBe(0);
    return dir;
  }

  beforeAll(async () => {
    bed = await startSigninBed({ impersonate: true });
    kubeconfig = inject('kubeconfigPath');
    alice = `alice-${bed.run}`;
    bob = `bob-${bed.run}`;
    team = `usage-team-${bed.run}`;
    const members = `usage-devs-${bed.run}`;
    const others = `usage-others-${bed.run}`;
    bed.oidc.users.set(alice, { sub: alice, email: `${alice}@example.com`, groups: [members] });
    bed.oidc.users.set(bob, { sub: bob, email: `${bob}@example.com`, groups: [others] });
    namespace = await uniqueNamespace('cli-usage', bed.admin);

    // Everyone may read Teams and Users (as the tenant view role lets them); only the team's
    // group may read the VirtualKeys in the team's namespace.
    const rbac = bed.admin.makeApiClient(RbacAuthorizationV1Api);
    await rbac.createClusterRole({
      body: {
        metadata: { name: team },
        rules: [{ apiGroups: [GROUP], resources: ['teams', 'users'], verbs: ['get', 'list'] }],
      },
    });
    await rbac.createClusterRoleBinding({
      body: {
        metadata: { name: team },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: team },
        subjects: [
          { kind: 'Group', name: members },
          { kind: 'Group', name: others },
        ],
      },
    });
    await rbac.createNamespacedRole({
      namespace,
      body: {
        metadata: { name: 'keys-read' },
        rules: [{ apiGroups: [GROUP], resources: ['virtualkeys'], verbs: ['get', 'list'] }],
      },
    });
    await rbac.createNamespacedRoleBinding({
      namespace,
      body: {
        metadata: { name: 'keys-read' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'keys-read' },
        subjects: [{ kind: 'Group', name: members }],
      },
    });
    const teams = new ClusterObjects<Team>(customObjects(bed.admin), 'Team', 'teams', {
      [TEST_RUN_LABEL]: bed.run,
    });
    await teams.create(team, { groups: [members], namespaces: [namespace], models: ['granite'] });

    const masterKeyFile = bed.file('litellm-master-key', bed.litellm.masterKey);
    gateway = await bed.startGateway({ LITELLM_MASTER_KEY_FILE: masterKeyFile });
    homes[alice] = await cliLogin(alice);
    homes[bob] = await cliLogin(bob);

    // A key of the team: no key operator runs here, so its status is what an operator would
    // have written, with the hash LiteLLM books its spend under.
    const api = customObjects(bed.admin);
    await api.createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace,
      plural: 'virtualkeys',
      body: {
        apiVersion: `${GROUP}/${VERSION}`,
        kind: 'VirtualKey',
        metadata: { name: 'chatbot', labels: { [TEST_RUN_LABEL]: bed.run } },
        spec: { models: ['granite'] },
      },
    });
    const keyHash = `hash-${bed.run}`;
    await api.patchNamespacedCustomObjectStatus({
      group: GROUP,
      version: VERSION,
      namespace,
      plural: 'virtualkeys',
      name: 'chatbot',
      body: [
        {
          op: 'add',
          path: '/status',
          value: {
            keyId: keyHash,
            spend: '0.2',
            budget: { maxBudget: '1', usedFraction: '0.2000' },
          },
        },
      ],
    });

    const aliceUser = (await api.getClusterCustomObject({
      group: GROUP,
      version: VERSION,
      plural: 'users',
      name: alice,
    })) as User;
    const teamId = await vi.waitFor(
      async () => {
        const t = (await api.getClusterCustomObject({
          group: GROUP,
          version: VERSION,
          plural: 'teams',
          name: team,
        })) as Team;
        expect(t.status?.teamId).toBeTruthy();
        return t.status!.teamId!;
      },
      { timeout: 20_000 },
    );
    const book = (
      daysBack: number,
      model: string,
      prompt: number,
      completion: number,
      spend: number,
    ) =>
      bed.litellm.store.dailySpend.book({
        at: new Date(`${day(daysBack)}T12:00:00Z`),
        user_id: aliceUser.status!.userId!,
        team_id: teamId,
        api_key: keyHash,
        model,
        model_group: model,
        prompt_tokens: prompt,
        completion_tokens: completion,
        spend,
      });
    book(1, 'granite', 2000, 500, 0.5);
    book(1, 'mistral', 1000, 0, 0.05);
    book(0, 'granite', 800, 200, 0.25);
  });

  afterAll(async () => {
    await bed?.stop();
    const rbac = bed?.admin.makeApiClient(RbacAuthorizationV1Api);
    await rbac?.deleteClusterRoleBinding({ name: team }).catch(() => {});
    await rbac?.deleteClusterRole({ name: team }).catch(() => {});
  });

  it("prints a team's spend per day with a bar, per model, and the totals", async () => {
    const run = await usage(alice, ['--team', team, '--since', '3d']);
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines[0]).toBe(`Usage of Team ${team}, ${day(2)} to ${day(0)} (UTC days)`);
    expect(lines).toContainEqual(expect.stringMatching(/^DATE +SPEND \(USD\) +TOKENS +REQUESTS$/));
    // The biggest day fills the bar; the other is scaled to it; a day of nothing is a dot.
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^${day(2)} +0 +0 +0 +·$`)));
    expect(lines).toContainEqual(
      expect.stringMatching(new RegExp(`^${day(1)} +0\\.55 +3500 +2 +█{30}$`)),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(new RegExp(`^${day(0)} +0\\.25 +1000 +1 +█{13}▋$`)),
    );
    expect(lines).toContainEqual(expect.stringMatching(/^granite +0\.75 +3500 +2800 +700 +2$/));
    expect(lines).toContainEqual(expect.stringMatching(/^mistral +0\.05 +1000 +1000 +0 +1$/));
    expect(lines).toContain('Total: 0.8 USD, 4500 tokens, 3 requests');
  });

  it("prints a key's usage against its budget, and the same figures as JSON", async () => {
    const table = await usage(alice, ['--key', 'chatbot', '-n', namespace, '--since', '2d']);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toContain(
      `Usage of VirtualKey ${namespace}/chatbot, ${day(1)} to ${day(0)}`,
    );
    expect(table.stdout).toContain('Budget: spend 0.2 of 1 USD (20 %)\n        [██████ ');

    const json = await usage(alice, [
      '--key',
      'chatbot',
      '-n',
      namespace,
      '--since',
      '2d',
      '-o',
      'json',
    ]);
    expect(json.code, json.stderr).toBe(0);
    const body = JSON.parse(json.stdout) as {
      scope: string;
      totals: { spend: string; totalTokens: number; requests: number };
      days: { date: string; spend: string }[];
      budget: { spend: string; maxBudget: string };
    };
    expect(body).toMatchObject({
      scope: 'key',
      name: 'chatbot',
      namespace,
      totals: { spend: '0.8', totalTokens: 4500, requests: 3 },
      budget: { spend: '0.2', maxBudget: '1' },
    });
    expect(body.days.map((d) => [d.date, d.spend])).toEqual([
      [day(1), '0.55'],
      [day(0), '0.25'],
    ]);
  });

  it('shows your own usage without a scope, and exports CSV', async () => {
    const mine = await usage(alice, ['--since', '2d', '-o', 'yaml']);
    expect(mine.code, mine.stderr).toBe(0);
    expect(mine.stdout).toMatch(new RegExp(`^scope: user\\nname: ${alice}\\n`, 'm'));
    expect(mine.stdout).toContain('spend: "0.8"');

    const csv = await usage(alice, ['--team', team, '--since', '2d', '--csv']);
    expect(csv.code, csv.stderr).toBe(0);
    expect(csv.stdout.split('\r\n')).toEqual([
      'date,model,spend_usd,prompt_tokens,completion_tokens,total_tokens,requests',
      `${day(1)},granite,0.5,2000,500,2500,1`,
      `${day(1)},mistral,0.05,1000,0,1000,1`,
      `${day(0)},granite,0.25,800,200,1000,1`,
      '',
    ]);
  });

  it("refuses a person outside the team with RBAC's answer and what to do", async () => {
    const refused = await usage(bob, ['--team', team]);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toContain(`usage of Team ${team}:`);
    expect(refused.stderr).toContain('Kubernetes RBAC does not let you list the VirtualKeys');
    expect(refused.stderr).toContain('Ask an admin of the Team for access');
    // Another person's usage is an admin's to see.
    const other = await usage(bob, ['--user', alice]);
    expect(other.code).toBe(1);
    expect(other.stderr).toContain("Another person's usage needs Kubernetes RBAC");
  });

  it('says what to do when not logged in, and when the gateway does not serve usage', async () => {
    const nobody = mkdtempSync(join(tmpdir(), 'cli-usage-home-'));
    const out = await kubectlLlm(kubeconfig, ['usage'], env(nobody));
    expect(out.code).toBe(1);
    expect(out.stderr).toContain(`not logged in to ${gateway.url}`);
    expect(out.stderr).toContain('run kubectl llm login');

    // A key that is not there: the object's 404, not the route's.
    const gone = await usage(alice, ['--key', 'missing', '-n', namespace]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain(`usage of VirtualKey ${namespace}/missing:`);
    expect(gone.stderr).not.toContain('does not serve usage');

    // A gateway without LiteLLM's master key (sessions are shared between the bed's gateways):
    // Alice's token, kept for that gateway too.
    const plain = await bed.startGateway();
    const cacheDir = join(homes[alice]!, '.kube', 'cache', 'llm-tenancy');
    const [file] = readdirSync(cacheDir);
    const cached = JSON.parse(readFileSync(join(cacheDir, file!), 'utf8')) as CachedToken;
    new TokenCache({ HOME: homes[alice] }).write({ ...cached, gateway: plain.url });
    const missing = await kubectlLlm(kubeconfig, ['usage'], env(homes[alice]!, plain.url));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`${plain.url} does not serve usage`);
    expect(missing.stderr).toContain('LITELLM_MASTER_KEY_FILE');

    // A token whose session ended at the gateway (revoked by logging out elsewhere).
    const bobCache = join(homes[bob]!, '.kube', 'cache', 'llm-tenancy');
    const bobToken = (
      JSON.parse(readFileSync(join(bobCache, readdirSync(bobCache)[0]!), 'utf8')) as CachedToken
    ).token;
    const revoke = await fetch(`${gateway.url}/auth/logout`, {
      method: 'POST',
      headers: { authorization: `Bearer ${bobToken}` },
    });
    expect(revoke.status).toBeLessThan(400);
    const ended = await usage(bob, ['--team', team]);
    expect(ended.code).toBe(1);
    expect(ended.stderr).toContain(`not logged in to ${gateway.url} any more`);
  });
});
