// The real kustomize, as the one built into kubectl (`kubectl kustomize DIR`): what
// `kubectl apply -k`, Argo CD and Flux render from a kustomization, load restrictions included.
// The kubectl is the test apiserver's (kube-binaries.ts); KUBECTL overrides it.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KubernetesObject } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { findKubeBinaries } from './kube-binaries.ts';

export const EXAMPLES_DIR = fileURLToPath(new URL('../../examples/', import.meta.url));

/** The kubectl to run: KUBECTL, else the one beside kube-apiserver. */
export async function findKubectl(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  if (env.KUBECTL) return env.KUBECTL;
  const { kubectl, dir } = await findKubeBinaries(env);
  if (!kubectl) throw new Error(`kubectl not found in ${dir}; set KUBECTL or add it there`);
  return kubectl;
}

/** `kubectl kustomize dir` as YAML; rejects with kustomize's own message. */
export async function kustomizeYaml(dir: string, kubectl?: string): Promise<string> {
  const binary = kubectl ?? (await findKubectl());
  return new Promise((resolve, reject) => {
    execFile(binary, ['kustomize', dir], { maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`kubectl kustomize ${dir} failed: ${stderr || err.message}`));
      else resolve(stdout);
    });
  });
}

/** The objects `kubectl kustomize dir` renders, in its order. */
export async function kustomize(dir: string, kubectl?: string): Promise<KubernetesObject[]> {
  return objectsOf(await kustomizeYaml(dir, kubectl));
}

/** The objects of a multi-document YAML stream, empty documents left out. */
export function objectsOf(yaml: string): KubernetesObject[] {
  return parseAllDocuments(yaml)
    .map((doc) => doc.toJS() as KubernetesObject | null)
    .filter((object): object is KubernetesObject => Boolean(object?.kind));
}

/**
 * What the README's quick start applies, in its order: examples/ (`kubectl apply -k`: both
 * GitOps bases, the namespace first), then examples/tenant-rbac.yaml (`kubectl apply -f`: the
 * tenant ClusterRoles, and a Role in that namespace).
 */
export async function quickStartObjects(kubectl?: string): Promise<KubernetesObject[]> {
  const rbac = await readFile(join(EXAMPLES_DIR, 'tenant-rbac.yaml'), 'utf8');
  return [...(await kustomize(EXAMPLES_DIR, kubectl)), ...objectsOf(rbac)];
}
