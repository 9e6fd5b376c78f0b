// Which gateway a command talks to: --gateway, else $KUBECTL_LLM_GATEWAY, else $GATEWAY_URL
// (the dev stack's .dev/env), else the current kubeconfig context's extension named
// `llmtenancy.dev/gateway` ({url: …}), which a platform admin can hand out with the
// kubeconfig:
//
//   contexts:
//     - name: prod
//       context:
//         cluster: prod
//         user: alice
//         extensions:
//           - name: llmtenancy.dev/gateway
//             extension: {url: https://llm.apps.example.com}
//
// client-node drops context extensions, so the kubeconfig files are read here as kubectl
// merges them: --kubeconfig, else each file of $KUBECONFIG in order (the first context of a
// name wins), else ~/.kube/config.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { parse } from 'yaml';

export const GATEWAY_EXTENSION = 'llmtenancy.dev/gateway';

export interface GatewayLocation {
  url: string;
  /** Where it came from, for messages: "--gateway", "$GATEWAY_URL", the context. */
  source: string;
}

interface RawKubeconfig {
  'current-context'?: string;
  contexts?: {
    name?: string;
    context?: { extensions?: { name?: string; extension?: { url?: unknown } }[] };
  }[];
}

type Env = Record<string, string | undefined>;

function kubeconfigFiles(kubeconfig: string | undefined, env: Env): string[] {
  if (kubeconfig) return [kubeconfig];
  const list = env.KUBECONFIG?.split(delimiter).filter(Boolean);
  return list?.length ? list : [join(env.HOME ?? homedir(), '.kube', 'config')];
}

function readKubeconfig(file: string): RawKubeconfig | undefined {
  try {
    return (parse(readFileSync(file, 'utf8')) as RawKubeconfig | null) ?? undefined;
  } catch {
    return undefined; // kubectl's own commands report an unreadable kubeconfig
  }
}

/** The URL in the named (or current) context's llmtenancy.dev/gateway extension. */
export function gatewayFromKubeconfig(
  kubeconfig: string | undefined,
  context: string | undefined,
  env: Env,
): GatewayLocation | undefined {
  const configs = kubeconfigFiles(kubeconfig, env).flatMap((f) => readKubeconfig(f) ?? []);
  const name = context ?? configs.find((c) => c['current-context'])?.['current-context'];
  if (!name) return undefined;
  for (const config of configs) {
    const entry = config.contexts?.find((c) => c.name === name);
    if (!entry) continue;
    const url = entry.context?.extensions?.find((e) => e.name === GATEWAY_EXTENSION)?.extension
      ?.url;
    return typeof url === 'string' && url !== ''
      ? { url, source: `the extension ${GATEWAY_EXTENSION} of context ${name}` }
      : undefined;
  }
  return undefined;
}

/** The gateway by kubectl llm's rule above; undefined when nothing names one. */
export function locateGateway(
  flag: string | undefined,
  global: { kubeconfig?: string | undefined; context?: string | undefined },
  env: Env,
): GatewayLocation | undefined {
  if (flag) return { url: flag, source: '--gateway' };
  for (const name of ['KUBECTL_LLM_GATEWAY', 'GATEWAY_URL']) {
    const value = env[name];
    if (value) return { url: value, source: `$${name}` };
  }
  return gatewayFromKubeconfig(global.kubeconfig, global.context, env);
}
