// `npm run dev`: the whole stack on one machine, for a newcomer's first hour and for
// hands-on work. It starts
//
//   - the test bed: kube-apiserver + etcd with our CRDs and the OpenShift Group stand-in,
//     redis-server and the OIDC provider (test/harness/test-bed.ts);
//   - a LiteLLM: by default the LiteLLM-compatible test server (test/litellm-server) serving
//     a few models answered by the fake OpenAI upstream. DEV_LITELLM=real starts the real
//     LiteLLM proxy instead (test/harness/litellm-proxy.ts, after
//     `bash test/harness/bin/install-litellm.sh`), but without a database it cannot manage
//     users, teams or keys, so the operator's Users and Teams stay LiteLLMUnavailable there;
//   - the operator itself, as a child process running operator/src/main.ts, logging to
//     .dev/operator.log;
//
// then applies examples/, writes .dev/kubeconfig and .dev/env (shell-sourceable), prints what
// to try, and runs until Ctrl-C. Environment: DEV_DIR (default .dev), DEV_LITELLM
// (compat | real), LITELLM_PORT (default 4000, or a free port when taken), HEALTH_PORT
// (default 8081, likewise), LOG_LEVEL (the operator's).
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CustomObjectsApi,
  KubernetesObjectApi,
  PatchStrategy,
  type KubeConfig,
  type KubernetesObject,
} from '@kubernetes/client-node';
import getPort from 'get-port';
import { parseAllDocuments } from 'yaml';
import { GROUP, VERSION, type User } from '../../crds/api/index.ts';
import { startLiteLLMProxy } from '../harness/litellm-proxy.ts';
import { startProcess, tailOfLog, waitUntilReady } from '../harness/process.ts';
import { OPENSHIFT_GROUP_CRD, startTestBed } from '../harness/test-bed.ts';
import { pollUntil } from '../harness/wait.ts';
import { startLiteLLMServer } from '../litellm-server/server.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const devDir = resolve(root, process.env.DEV_DIR || '.dev');
const examplesDir = join(root, 'examples');
const operatorMain = join(root, 'operator/src/main.ts');
const MASTER_KEY = 'sk-dev-master-key-0000';
const MODELS = ['granite-3-8b', 'llama-3-8b', 'gpt-test', 'emb-test'];

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

/** kubectl apply --server-side for every manifest in examples/, in file-name order. */
async function applyExamples(kc: KubeConfig): Promise<string[]> {
  const api = KubernetesObjectApi.makeApiClient(kc);
  const applied: string[] = [];
  const files = (await readdir(examplesDir)).filter((f) => /\.ya?ml$/.test(f)).sort();
  for (const file of files) {
    for (const doc of parseAllDocuments(await readFile(join(examplesDir, file), 'utf8'))) {
      const object = doc.toJS() as KubernetesObject | null;
      if (!object?.kind) continue;
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
  }
  return applied;
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

/** KEY=value, single-quoted when a shell could read the value otherwise. */
const quote = (value: string) =>
  /^[\w./:@%+,=-]*$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`;

async function main(): Promise<void> {
  const started = performance.now();
  await mkdir(devDir, { recursive: true });
  const bed = await startTestBed({ kube: { extraCRDs: [OPENSHIFT_GROUP_CRD] } });
  stops.push({ what: 'test bed', stop: () => bed.stop() });
  const kubeconfig = join(devDir, 'kubeconfig');
  await writeFile(kubeconfig, bed.kubeconfigYaml!, { mode: 0o600 });
  const litellm = await startLiteLLM();

  const healthPort = await getPort({
    host: '127.0.0.1',
    port: Number(process.env.HEALTH_PORT || 8081),
  });
  const operatorLog = join(devDir, 'operator.log');
  await rm(operatorLog, { force: true });
  const operatorEnv: Record<string, string> = {
    KUBECONFIG: kubeconfig,
    LITELLM_URL: litellm.url,
    LITELLM_MASTER_KEY: litellm.masterKey,
    LEADER_ELECTION: 'false',
    REDIS_URL: bed.redisUrl!,
    GATEWAY_URL: 'http://127.0.0.1:8080/v1',
    RESYNC_INTERVAL: '30s',
    ORPHAN_COLLECTION: 'dry-run',
    HEALTH_PORT: String(healthPort),
    LOG_LEVEL: process.env.LOG_LEVEL || 'info',
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

  const applied = await applyExamples(bed.kubeConfig!);
  // Worth waiting for a little: it shows the operator works, or why not, before the banner.
  await pollUntil(
    async () => (await readyUsers(bed.kubeConfig!)).every((u) => u.ready === 'True'),
    {
      what: 'the example Users to become Ready',
      timeoutMs: 30_000,
      intervalMs: 250,
    },
  ).catch(() => {});
  const users = await readyUsers(bed.kubeConfig!);

  const env = {
    KUBECONFIG: kubeconfig,
    LITELLM_URL: litellm.url,
    LITELLM_MASTER_KEY: litellm.masterKey,
    REDIS_URL: bed.redisUrl!,
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
  console.log(`llm-tenancy dev stack ready in ${seconds}s

  kube-apiserver  ${bed.controlPlane!.url}   (logs: ${bed.controlPlane!.dir})
  LiteLLM         ${litellm.url}   ${litellm.description}
  operator        ${healthUrl}/metrics   (log: ${operatorLog})
  redis           ${bed.redisUrl}
  OIDC issuer     ${bed.oidc!.issuer}

Applied examples/: ${applied.join(', ')}
Users: ${users.map((u) => `${u.name} Ready=${u.ready}`).join(', ') || 'none'}

In another shell:
  set -a; . ${envFile}; set +a
  "$KUBECTL" get users,teams,modelsubscriptions,virtualkeys -A
  "$KUBECTL" wait --for=condition=Ready user/alice
  "$KUBECTL" describe user alice            # conditions and Events
  curl -s -H "Authorization: Bearer $LITELLM_MASTER_KEY" "$LITELLM_URL/user/info?user_id=alice"
  "$KUBECTL" patch user alice --type=merge -p '{"spec":{"role":"admin"}}'   # and look again
  tail -f ${operatorLog}

Ctrl-C stops everything.`);

  await stopSignal;
  console.log('stopping…');
}

try {
  await Promise.race([main(), stopSignal]);
} catch (err) {
  console.error(`the dev stack did not start: ${(err as Error).message}`);
  const log = join(devDir, 'operator.log');
  console.error(`--- last lines of ${log} ---\n${await tailOfLog(log)}`);
  process.exitCode = 1;
} finally {
  await stopAll();
}
// A start-up interrupted by Ctrl-C may still be under way: leave now (the harness's exit
// hooks kill any child it started meanwhile).
process.exit();
