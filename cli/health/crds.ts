// Are our CRDs served? Discovery answers for every authenticated user, so this works for
// tenants too: /apis/llmtenancy.dev lists the group's versions (404: not installed), and the
// preferred version's document lists the resources.
import { GROUP, kinds, VERSION } from '../../crds/api/index.ts';
import { INSTALL_HINT } from '../errors.ts';
import type { KubeRest } from '../kube/rest.ts';

export interface CrdReport {
  ok: boolean;
  versions: string[];
  preferred?: string;
  served: string[];
  missing: string[];
  message: string;
}

const plurals = () => kinds.map((k) => k.plural as string);

export async function checkCrds(rest: KubeRest): Promise<CrdReport> {
  const group = await rest.raw({
    method: 'GET',
    path: `/apis/${GROUP}`,
    summary: { verb: 'get', resource: `apis/${GROUP}` },
  });
  if (group.statusCode === 404) return crdsMissing();
  if (group.statusCode !== 200) {
    return {
      ok: false,
      versions: [],
      served: [],
      missing: plurals(),
      message: `discovery of ${GROUP} answered HTTP ${group.statusCode}`,
    };
  }
  const body = JSON.parse(group.text) as {
    versions?: { version: string }[];
    preferredVersion?: { version: string };
  };
  const versions = (body.versions ?? []).map((v) => v.version);
  const resources = await rest.raw({
    method: 'GET',
    path: `/apis/${GROUP}/${VERSION}`,
    summary: { verb: 'get', resource: `apis/${GROUP}/${VERSION}` },
  });
  const names =
    resources.statusCode === 200
      ? ((JSON.parse(resources.text) as { resources?: { name: string }[] }).resources ?? []).map(
          (r) => r.name,
        )
      : [];
  const served = plurals().filter((p) => names.includes(p));
  const missing = plurals().filter((p) => !names.includes(p));
  return {
    ok: missing.length === 0,
    versions,
    preferred: body.preferredVersion?.version,
    served,
    missing,
    message:
      missing.length === 0
        ? `${GROUP} ${versions.join(', ')} (preferred ${body.preferredVersion?.version}): ${served.join(', ')}`
        : `${GROUP}/${VERSION} lacks ${missing.join(', ')}; ${INSTALL_HINT}`,
  };
}

export function crdsMissing(): CrdReport {
  return {
    ok: false,
    versions: [],
    served: [],
    missing: plurals(),
    message: `the apiserver does not serve ${GROUP}: the CRDs are not installed; ${INSTALL_HINT}`,
  };
}
