// `npm run dev`: the whole stack on one machine, for a newcomer's first hour and for
// hands-on work. It starts
//
//   - the test bed: kube-apiserver + etcd with our CRDs, the admission policy on VirtualKey
//     spec.user (crds/admission/, so kubectl apply refuses what a cluster refuses) and the
//     OpenShift Group stand-in, redis-server and the OIDC provider (test/harness/test-bed.ts);
//   - a LiteLLM: by default the LiteLLM-compatible test server (test/litellm-server) serving
//     a few models answered by the fake OpenAI upstream. DEV_LITELLM=real starts the real
//     LiteLLM proxy instead (test/harness/litellm-proxy.ts, after
//     `bash test/harness/bin/install-litellm.sh`), but without a database it cannot manage
//     users, teams or keys, so the operator's Users and Teams stay LiteLLMUnavailable there;
//   - the gateway, as a child process running gateway/src/main.ts in front of that LiteLLM,
//     with the bed's Redis for its routing config and rate-limit counters, logging to
//     .dev/gateway.log; started first, so the operator writes its URL into every key Secret.
//     Its sign-in is on, against the bed's OIDC provider, whose demo person (DEMO_LOGIN, in
//     the ml-researchers group of examples/10-team.yaml) signs in at /auth/login; and the
//     master key (.dev/master-key) is an admin on the people side;
//   - the operator itself, as a child process running operator/src/main.ts, logging to
//     .dev/operator.log;
//
// then applies examples/, waits (a little) for the example Users and the example VirtualKey
// to be Ready, writes .dev/kubeconfig and .dev/env (shell-sourceable, GATEWAY_URL included),
// prints what to try (calling the gateway with the example key among it), and runs until
// Ctrl-C. Environment: DEV_DIR (default .dev), DEV_LITELLM (compat | real), LITELLM_PORT
// (default 4000, or a free port when taken), GATEWAY_PORT (default 8080, likewise),
// GATEWAY_MANAGEMENT_PORT (default 8082, likewise), HEALTH_PORT (the operator's: default
// 8081, likewise), LOG_LEVEL (the operator's and the gateway's).
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CustomObjectsApi,
  KubernetesObjectApi,
  PatchStrategy,
  type KubeConfig,
} from '@kubernetes/client-node';
import getPort from 'get-port';
import { GROUP, VERSION, type User, type VirtualKey } from '../../crds/api/index.ts';
import { startLiteLLMProxy } from '../harness/litellm-proxy.ts';
import { quickStartObjects } from '../harness/kustomize.ts';
import { startProcess, tailOfLog, waitUntilReady } from '../harness/process.ts';
import { OPENSHIFT_GROUP_CRD, startTestBed } from '../harness/test-bed.ts';
import { pollUntil } from '../harness/wait.ts';
import { startLiteLLMServer } from '../litellm-server/server.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const devDir = resolve(root, process.env.DEV_DIR || '.dev');
const operatorMain = join(root, 'operator/src/main.ts');
const gatewayMain = join(root, 'gateway/src/main.ts');
/** The child processes' logs in devDir. */
const LOGS = ['gateway.log', 'operator.log'];
/**
 * Both programs' audit trail, one file as a log pipeline would join it (AUDIT_LOG; set it to
 * "stdout" to have the records in the programs' logs instead). AUDIT_WEBHOOK_* pass through.
 */
const auditLog = process.env.AUDIT_LOG || join(devDir, 'audit.jsonl');
const auditEnv = (): Record<string, string> => ({
  AUDIT_LOG: auditLog,
  ...Object.fromEntries(
    Object.entries(process.env).filter(
      (e): e is [string, string] => e[0].startsWith('AUDIT_WEBHOOK_') && !!e[1],
    ),
  ),
});
const MASTER_KEY = 'sk-dev-master-key-0000';
/**
 * The demo person of the test OpenID provider. Its development login form takes any
 * password; the banner and README say "demo" so nobody wonders what to type.
 */
const DEMO_LOGIN = { login: 'demo', password: 'demo', group: 'ml-researchers' };
const MODELS = ['granite-3-8b', 'llama-3-8b', 'gpt-test', 'emb-test'];
/** examples/gitops/tenant/base/virtual-key.yaml: its key, in its Secret, reaches granite-3-8b only. */
const EXAMPLE_KEY = {
  namespace: 'ml-research',
  name: 'chatbot',
  secret: 'chatbot-openai',
  model: 'granite-3-8b',
  // Allowed by the Team, but no ModelSubscription (and not in the key's spec.models).
  refusedModel: 'llama-3-8b',
};

// The first SIGINT/SIGTERM stops everything gracefully; a second one exits at once (the
// harness's exit hooks then kill whatever still runs).
const stopSignal = new Promise<void>((resolveStop) => {
  let received = false;
  const onSignal = () => {
    if (received) process.exit(130);
    received = true;
    resolveStop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
});

/** Something started, and how to stop it; stopped in reverse order. */
const stops: { what: string; stop: () => Promise<void> }[] = [];
async function stopAll(): Promise<void> {
  for (const { what, stop } of stops.reverse()) {
    try {
      await stop();
    } catch (err) {
      console.error(`stopping ${what} failed: ${(err as Error).message}`);
    }
  }
}

async function startLiteLLM(): Promise<{ url: string; masterKey: string; description: string }> {
  if (process.env.DEV_LITELLM === 'real') {
    const proxy = await startLiteLLMProxy({ masterKey: MASTER_KEY });
    stops.push({ what: 'LiteLLM proxy', stop: () => proxy.stop() });
    return {
      url: proxy.url,
      masterKey: proxy.masterKey,
      description: `real LiteLLM ${proxy.version} (no database: user/team/key management answers "No db connected"; models ${proxy.chatModel}, ${proxy.mockModel}, ${proxy.embeddingModel})`,
    };
  }
  const port = await getPort({ host: '127.0.0.1', port: Number(process.env.LITELLM_PORT || 4000) });
  const server = await startLiteLLMServer({ port, masterKey: MASTER_KEY, models: MODELS });
  stops.push({ what: 'LiteLLM test server', stop: () => server.stop() });
  return {
    url: server.url,
    masterKey: server.masterKey,
    description: `LiteLLM-compatible test server (models ${MODELS.join(', ')}; fake OpenAI upstream ${server.upstream?.url}; faults: POST ${server.url}/__test/faults)`,
  };
}

/** The README's quick start (`-k examples/`, then examples/tenant-rbac.yaml), server-side. */
async function applyExamples(kc: KubeConfig, kubectl: string | undefined): Promise<string[]> {
  const api = KubernetesObjectApi.makeApiClient(kc);
  const applied: string[] = [];
  for (const object of await quickStartObjects(kubectl)) {
    await api.patch(
      object,
      undefined,
      undefined,
      'llm-tenancy-dev',
      true,
      PatchStrategy.ServerSideApply,
    );
    applied.push(`${object.kind}/${object.metadata?.name}`);
  }
  return applied;
}

/** A port on 127.0.0.1: `wanted` from the environment, else `fallback`; another when taken. */
function freePort(wanted: string | undefined, fallback: number): Promise<number> {
  return getPort({ host: '127.0.0.1', port: Number(wanted || fallback) });
}

interface GatewaySignin {
  issuer: string;
  clientId: string;
  clientSecret: string;
  kubeconfig: string;
}

/** The gateway (gateway/src/main.ts) as a child process, once its /healthz answers. */
async function startGateway(
  port: number,
  litellmUrl: string,
  redisUrl: string,
  signin: GatewaySignin,
) {
  const secret = async (name: string, value: string) => {
    const path = join(devDir, name);
    await writeFile(path, value, { mode: 0o600 });
    return path;
  };
  const managementPort = await freePort(process.env.GATEWAY_MANAGEMENT_PORT, 8082);
  const logFile = join(devDir, 'gateway.log');
  const gatewayEnv: Record<string, string> = {
    LITELLM_URL: litellmUrl,
    REDIS_URL: redisUrl,
    HOST: '127.0.0.1',
    PORT: String(port),
    MANAGEMENT_PORT: String(managementPort),
    SHUTDOWN_GRACE: '5s',
    LOG_LEVEL: process.env.LOG_LEVEL || 'info',
    // Sign-in against the bed's OIDC provider, over plain http on this machine only.
    SIGNIN_PROVIDER: 'oidc',
    SIGNIN_ALLOW_HTTP: 'true',
    SESSION_COOKIE_SECURE: 'false',
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    OIDC_ISSUER_URL: signin.issuer,
    OIDC_CLIENT_ID: signin.clientId,
    OIDC_CLIENT_SECRET_FILE: await secret('oidc-client-secret', signin.clientSecret),
    OIDC_USERNAME_CLAIM: 'sub',
    SESSION_SECRET_FILE: await secret('session-secret', randomBytes(48).toString('base64')),
    ROLE_GROUPS: 'admin=llm-tenancy-admins',
    LITELLM_MASTER_KEY_FILE: await secret('master-key', MASTER_KEY),
    // The bed's admin kubeconfig stands in for the gateway's ServiceAccount here.
    KUBECONFIG: signin.kubeconfig,
    ...auditEnv(),
  };
  const gateway = await startProcess({
    name: 'gateway',
    command: 'env',
    args: [
      ...Object.entries(gatewayEnv).map(([k, v]) => `${k}=${v}`),
      process.execPath,
      gatewayMain,
    ],
    logFile,
  });
  stops.push({ what: 'gateway', stop: () => gateway.stop(10_000) });
  const url = `http://127.0.0.1:${port}`;
  const managementUrl = `http://127.0.0.1:${managementPort}`;
  await waitUntilReady(gateway, async () => (await fetch(`${managementUrl}/healthz`)).ok, {
    what: `${managementUrl}/healthz`,
    timeoutMs: 60_000,
    intervalMs: 200,
  });
  return { url, managementUrl, logFile };
}

async function readyUsers(kc: KubeConfig): Promise<{ name: string; ready: string }[]> {
  const list = (await kc
    .makeApiClient(CustomObjectsApi)
    .listClusterCustomObject({ group: GROUP, version: VERSION, plural: 'users' })) as {
    items: User[];
  };
  return list.items.map((u) => ({
    name: u.metadata.name!,
    ready: u.status?.conditions?.find((c) => c.type === 'Ready')?.status ?? 'Unknown',
  }));
}

async function exampleKeyReady(kc: KubeConfig): Promise<string> {
  const key = (await kc
    .makeApiClient(CustomObjectsApi)
    .getNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      plural: 'virtualkeys',
      namespace: EXAMPLE_KEY.namespace,
      name: EXAMPLE_KEY.name,
    })
    .catch(() => undefined)) as VirtualKey | undefined;
  const ready = key?.status?.conditions?.find((c) => c.type === 'Ready');
  return ready ? `${ready.status}${ready.reason ? ` (${ready.reason})` : ''}` : 'Unknown';
}

/** KEY=value, single-quoted when a shell could read the value otherwise. */
const quote = (value: string) =>
  /^[\w./:@%+,=-]*$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`;

async function main(): Promise<void> {
  const started = performance.now();
  await mkdir(devDir, { recursive: true });
  // A failed start quotes these logs: none may be left from an earlier run.
  for (const log of LOGS) await rm(join(devDir, log), { force: true });
  if (auditLog === join(devDir, 'audit.jsonl')) await rm(auditLog, { force: true });
  // The gateway's port first: the OIDC client's redirect URI names it.
  const gatewayPort = await freePort(process.env.GATEWAY_PORT, 8080);
  const bed = await startTestBed({
    kube: { extraCRDs: [OPENSHIFT_GROUP_CRD] },
    oidc: {
      client: { redirectUri: `http://127.0.0.1:${gatewayPort}/auth/callback` },
      users: [
        {
          sub: DEMO_LOGIN.login,
          email: 'demo@example.com',
          name: 'Demo Person',
          groups: [DEMO_LOGIN.group],
        },
      ],
    },
  });
  stops.push({ what: 'test bed', stop: () => bed.stop() });
  const kubeconfig = join(devDir, 'kubeconfig');
  await writeFile(kubeconfig, bed.kubeconfigYaml!, { mode: 0o600 });
  const litellm = await startLiteLLM();
  const gateway = await startGateway(gatewayPort, litellm.url, bed.redisUrl!, {
    issuer: bed.oidc!.issuer,
    clientId: bed.oidc!.client.clientId,
    clientSecret: bed.oidc!.client.clientSecret,
    kubeconfig,
  });
  const gatewayUrl = `${gateway.url}/v1`;

  const healthPort = await freePort(process.env.HEALTH_PORT, 8081);
  const operatorLog = join(devDir, 'operator.log');
  const operatorEnv: Record<string, string> = {
    KUBECONFIG: kubeconfig,
    LITELLM_URL: litellm.url,
    LITELLM_MASTER_KEY: litellm.masterKey,
    LEADER_ELECTION: 'false',
    REDIS_URL: bed.redisUrl!,
    GATEWAY_URL: gatewayUrl,
    RESYNC_INTERVAL: '30s',
    ORPHAN_COLLECTION: 'dry-run',
    HEALTH_PORT: String(healthPort),
    LOG_LEVEL: process.env.LOG_LEVEL || 'info',
    // Budget alert delivery (BUDGET_ALERT_WEBHOOK_*, BUDGET_ALERT_SMTP_*, thresholds) as set here.
    ...Object.fromEntries(
      Object.entries(process.env).filter(
        (e): e is [string, string] => e[0].startsWith('BUDGET_ALERT_') && !!e[1],
      ),
    ),
    ...auditEnv(),
  };
  const operator = await startProcess({
    name: 'operator',
    command: 'env',
    args: [
      '-u',
      'LITELLM_MASTER_KEY_FILE',
      ...Object.entries(operatorEnv).map(([k, v]) => `${k}=${v}`),
      process.execPath,
      operatorMain,
    ],
    logFile: operatorLog,
  });
  stops.push({ what: 'operator', stop: () => operator.stop(30_000) });
  const healthUrl = `http://127.0.0.1:${healthPort}`;
  await waitUntilReady(operator, async () => (await fetch(`${healthUrl}/readyz`)).ok, {
    what: `${healthUrl}/readyz`,
    timeoutMs: 60_000,
    intervalMs: 200,
  });

  const applied = await applyExamples(bed.kubeConfig!, bed.kubectlPath);
  // Worth waiting for a little: it shows the operator works, or why not, before the banner.
  await pollUntil(
    async () =>
      (await readyUsers(bed.kubeConfig!)).every((u) => u.ready === 'True') &&
      (await exampleKeyReady(bed.kubeConfig!)).startsWith('True'),
    {
      what: 'the example Users and VirtualKey to become Ready',
      timeoutMs: 30_000,
      intervalMs: 250,
    },
  ).catch(() => {});
  const users = await readyUsers(bed.kubeConfig!);
  const keyReady = await exampleKeyReady(bed.kubeConfig!);
  // The gateway is ready once it has read the routing config the operator publishes.
  await pollUntil(async () => (await fetch(`${gateway.managementUrl}/readyz`)).ok, {
    what: `${gateway.managementUrl}/readyz`,
    timeoutMs: 15_000,
    intervalMs: 250,
  }).catch(() => {});
  const gatewayReady = (await fetch(`${gateway.managementUrl}/readyz`).catch(() => undefined))?.ok;

  const env = {
    KUBECONFIG: kubeconfig,
    LITELLM_URL: litellm.url,
    LITELLM_MASTER_KEY: litellm.masterKey,
    REDIS_URL: bed.redisUrl!,
    GATEWAY_URL: gatewayUrl,
    KUBECTL: bed.kubectlPath ?? 'kubectl',
    OIDC_ISSUER: bed.oidc!.issuer,
    OIDC_CLIENT_ID: bed.oidc!.client.clientId,
    OIDC_CLIENT_SECRET: bed.oidc!.client.clientSecret,
  };
  const envFile = join(devDir, 'env');
  await writeFile(
    envFile,
    Object.entries(env)
      .map(([k, v]) => `${k}=${quote(v)}\n`)
      .join(''),
    { mode: 0o600 },
  );
  stops.push({ what: envFile, stop: () => rm(envFile, { force: true }) });

  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const { namespace, secret, model, refusedModel } = EXAMPLE_KEY;
  const chat = (m: string) =>
    `curl -s "$GATEWAY_URL/chat/completions" -H "Authorization: Bearer $KEY" -H 'content-type: application/json' -d '{"model":"${m}","messages":[{"role":"user","content":"hello"}]}'`;
  console.log(`llm-tenancy dev stack ready in ${seconds}s

  kube-apiserver  ${bed.controlPlane!.url}   (logs: ${bed.controlPlane!.dir})
  LiteLLM         ${litellm.url}   ${litellm.description}
  gateway         ${gatewayUrl}   (log: ${gateway.logFile}; ${gateway.managementUrl}/metrics, /readyz: ${gatewayReady ? 'ready' : 'NOT ready'})
  operator        ${healthUrl}/metrics   (log: ${operatorLog})
  redis           ${bed.redisUrl}
  OIDC issuer     ${bed.oidc!.issuer}
  audit trail     ${auditLog}   (both programs; README "Audit trail")

Sign in from a browser: ${gateway.url}/auth/login
  as ${DEMO_LOGIN.login}, password ${DEMO_LOGIN.password} (the test provider's form; group ${DEMO_LOGIN.group}
  puts the demo person in Team ml-research); then ${gateway.url}/auth/session says who you are.
The master key is an admin on the people side:
  curl -s ${gateway.url}/auth/session -H "Authorization: Bearer $LITELLM_MASTER_KEY"

Applied examples/: ${applied.join(', ')}
Users: ${users.map((u) => `${u.name} Ready=${u.ready}`).join(', ') || 'none'}
VirtualKey ${namespace}/${EXAMPLE_KEY.name}: Ready=${keyReady}

In another shell:
  set -a; . ${envFile}; set +a
  "$KUBECTL" get users,teams,modelsubscriptions,virtualkeys -A
  "$KUBECTL" wait --for=condition=Ready user/alice
  "$KUBECTL" describe user alice            # conditions and Events
  curl -s -H "Authorization: Bearer $LITELLM_MASTER_KEY" "$LITELLM_URL/user/info?user_id=alice"
  "$KUBECTL" patch user alice --type=merge -p '{"spec":{"role":"admin"}}'   # and look again
  tail -f ${operatorLog}

Call the gateway with the example key (its Secret ${namespace}/${secret}):
  KEY=$("$KUBECTL" -n ${namespace} get secret ${secret} -o jsonpath='{.data.OPENAI_API_KEY}' | base64 -d)
  curl -s "$GATEWAY_URL/models" -H "Authorization: Bearer $KEY"
  ${chat(model)}
  ${chat(refusedModel)}   # 403 key_model_access_denied
  tail -f ${gateway.logFile}

What the operator did in LiteLLM, and what people did at the gateway:
  tail -f ${auditLog}

Ctrl-C stops everything.`);

  await stopSignal;
  console.log('stopping…');
}

try {
  await Promise.race([main(), stopSignal]);
} catch (err) {
  console.error(`the dev stack did not start: ${(err as Error).message}`);
  for (const log of LOGS.map((name) => join(devDir, name))) {
    if (existsSync(log)) console.error(`--- last lines of ${log} ---\n${await tailOfLog(log)}`);
  }
  process.exitCode = 1;
} finally {
  await stopAll();
}
// A start-up interrupted by Ctrl-C may still be under way: leave now (the harness's exit
// hooks kill any child it started meanwhile).
process.exit();
