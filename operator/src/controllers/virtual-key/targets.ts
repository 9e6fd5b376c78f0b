// The kinds the VirtualKey controller reads and writes beyond the shared ones
// (../shared/kinds.ts): VirtualKeys themselves and the Secrets their keys live in.
import { API_VERSION } from '../../../../crds/api/index.ts';
import type { ResourceType } from '../../runtime/discovery.ts';
import type { InformerTarget } from '../../runtime/informer-factory.ts';
import { VIRTUAL_KEY_LABEL } from './key-secret.ts';

export const VIRTUAL_KEY_TARGET: InformerTarget = { apiVersion: API_VERSION, kind: 'VirtualKey' };
export const VIRTUAL_KEY_RESOURCE: ResourceType = {
  ...VIRTUAL_KEY_TARGET,
  plural: 'virtualkeys',
  namespaced: true,
};
/** Only the Secrets we write (they carry the virtual-key label): no cache of every Secret. */
export const KEY_SECRET_TARGET: InformerTarget = {
  apiVersion: 'v1',
  kind: 'Secret',
  labelSelector: VIRTUAL_KEY_LABEL,
};
