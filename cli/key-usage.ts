// How to use a key once it is made: the Secret's name in an envFrom snippet for a Pod, and
// export lines for a shell. The key value is printed only when asked (--show-key); otherwise
// the export line reads it from the Secret, so the terminal and its scrollback never hold it.
import type { VirtualKey } from '../crds/api/index.ts';

export interface KeySecretValues {
  apiKey?: string;
  baseUrl?: string;
}

export function secretNameOf(key: VirtualKey): string {
  return key.status?.secretName ?? key.spec.secret?.name ?? key.metadata.name!;
}

export function keyUsage(key: VirtualKey, values: KeySecretValues | undefined): string {
  const namespace = key.metadata.namespace!;
  const secret = secretNameOf(key);
  const apiKeyKey = key.spec.secret?.apiKeyKey ?? 'OPENAI_API_KEY';
  const baseUrlKey = key.spec.secret?.baseUrlKey ?? 'OPENAI_BASE_URL';
  const fromSecret = (dataKey: string) =>
    `"$(kubectl get secret ${secret} -n ${namespace} -o jsonpath='{.data.${dataKey.replaceAll('.', '\\.')}}' | base64 -d)"`;
  const quote = (value: string) => `'${value.replaceAll("'", `'\\''`)}'`;
  const lines = [
    `The key is in Secret ${namespace}/${secret} (${apiKeyKey}, ${baseUrlKey}).`,
    '',
    'In a Pod or Deployment of namespace ' + namespace + ':',
    '  envFrom:',
    '    - secretRef:',
    `        name: ${secret}`,
    '',
    'In a shell:',
    `  export ${baseUrlKey}=${values?.baseUrl ? quote(values.baseUrl) : fromSecret(baseUrlKey)}`,
    values?.apiKey
      ? `  export ${apiKeyKey}=${quote(values.apiKey)}`
      : `  export ${apiKeyKey}=${fromSecret(apiKeyKey)}   # sk-**** (--show-key prints it)`,
  ];
  return `${lines.join('\n')}\n`;
}
