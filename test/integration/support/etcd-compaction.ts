// Compacts the etcd behind a kube-apiserver: the event after which the API server answers
// 410 Gone to a watch from an older resourceVersion (production apiservers compact every
// five minutes). The etcd URL comes from the harness's ControlPlane.etcdUrl.

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
