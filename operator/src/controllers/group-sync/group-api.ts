// The OpenShift Group API (user.openshift.io/v1) is optional: plain Kubernetes does not serve
// it. The manager's preflight fails for any watched type that is not served, so whether to
// watch Groups at all is decided here, once, before controllers are added; without it the
// operator runs, Teams follow the groups claims recorded on Users, and the log says so once.
import type { KubeConfig } from '@kubernetes/client-node';
import {
  resolveResource,
  ResourceNotServedError,
  type GroupVersionKind,
} from '../../runtime/discovery.ts';
import type { Logger } from '../../runtime/logger.ts';
import { OPENSHIFT_GROUP_TARGET } from '../shared/kinds.ts';

/** True when the cluster serves OpenShift Groups; other discovery failures are thrown. */
export async function openShiftGroupsServed(
  kc: KubeConfig,
  logger: Logger,
  groupKind: GroupVersionKind = OPENSHIFT_GROUP_TARGET,
): Promise<boolean> {
  try {
    await resolveResource(kc, groupKind);
    return true;
  } catch (err) {
    if (!(err instanceof ResourceNotServedError)) throw err;
    logger.info(
      { reason: err.message },
      'OpenShift Groups (user.openshift.io/v1) are not served: group sync is off; Team.spec.groups match the groups claim recorded on each User',
    );
    return false;
  }
}
