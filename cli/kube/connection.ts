// Which cluster, which user, which namespace: kubectl's rules. --kubeconfig, else $KUBECONFIG,
// else ~/.kube/config, else in-cluster (client-node's loadFromDefault); --context picks a
// context; the namespace is -n, else the context's, else "default".
import { KubeConfig } from '@kubernetes/client-node';
import { CliError } from '../errors.ts';

export interface ConnectionFlags {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  /** kubectl --as: the user to impersonate. */
  as?: string;
  /** kubectl --as-group, repeatable. */
  asGroups?: string[];
}

export interface Connection {
  kc: KubeConfig;
  namespace: string;
  /** Headers every request carries (impersonation from --as / --as-group). */
  headers: Record<string, string | string[]>;
}

export function connect(flags: ConnectionFlags): Connection {
  const kc = new KubeConfig();
  try {
    if (flags.kubeconfig) kc.loadFromFile(flags.kubeconfig);
    else kc.loadFromDefault();
  } catch (err) {
    throw new CliError(
      `cannot read the kubeconfig ${flags.kubeconfig ?? process.env.KUBECONFIG ?? '~/.kube/config'}: ${(err as Error).message}`,
    );
  }
  if (flags.context) {
    if (!kc.getContextObject(flags.context)) {
      const known = kc.getContexts().map((c) => c.name);
      throw new CliError(
        `context "${flags.context}" is not in the kubeconfig (it has: ${known.join(', ') || 'none'})`,
      );
    }
    kc.setCurrentContext(flags.context);
  }
  if (!kc.getCurrentCluster()) {
    throw new CliError(
      'no cluster to talk to: the kubeconfig has no current context; pass --context or --kubeconfig',
    );
  }
  const contextNamespace = kc.getContextObject(kc.getCurrentContext())?.namespace;
  const headers: Record<string, string | string[]> = {};
  if (flags.as) headers['Impersonate-User'] = flags.as;
  if (flags.asGroups?.length) headers['Impersonate-Group'] = flags.asGroups;
  return { kc, namespace: flags.namespace || contextNamespace || 'default', headers };
}
