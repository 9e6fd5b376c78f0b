// Compacts the etcd behind a kube-apiserver: the event after which the API server answers
// 410 Gone to a watch from an older resourceVersion (production apiservers compact every
// five minutes). The harness does not hand out etcd's address, so it is read from the
// command line of the kube-apiserver listening on the kubeconfig's port, in /proc.
import { readdir, readFile } from 'node:fs/promises';
import type { KubeConfig } from '@kubernetes/client-node';

export async function etcdUrlOf(kc: KubeConfig): Promise<string> {
  const port = new URL(kc.getCurrentCluster()!.server).port;
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const args = await readFile(`/proc/${pid}/cmdline`, 'utf8').then(
      (s) => s.split('\0'),
      () => [] as string[],
    );
    if (!args[0]?.endsWith('kube-apiserver') || !args.includes(`--secure-port=${port}`)) continue;
    const flag = args.find((a) => a.startsWith('--etcd-servers='));
    if (flag) return flag.slice('--etcd-servers='.length).split(',')[0]!;
  }
  throw new Error(`no kube-apiserver with --secure-port=${port} found in /proc`);
}

async function post<T>(url: string, body: unknown): Promise<T> {
  const response = await fetch(url, { method: 'POST', body: JSON.stringify(body) });
  if (!response.ok) throw new Error(`${url}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

/** Compacts etcd's history up to its current revision (etcd's v3 JSON gateway). */
export async function compactEtcd(etcdUrl: string): Promise<number> {
  const range = await post<{ header: { revision: string } }>(`${etcdUrl}/v3/kv/range`, {
    key: Buffer.from('/').toString('base64'),
    limit: 1,
  });
  const revision = Number(range.header.revision);
  await post(`${etcdUrl}/v3/kv/compaction`, { revision: String(revision), physical: true });
  return revision;
}
