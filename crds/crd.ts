// Builds an apiextensions.k8s.io/v1 CustomResourceDefinition from a KindDefinition.
import { z } from 'zod';
import { type KindDefinition } from './api/kind.ts';
import { CATEGORY, GROUP, VERSION } from './api/meta.ts';
import { toStructural, type JSONSchema } from './structural.ts';

/** zod → OpenAPI 3.0 JSON Schema, as input (fields with defaults are optional). */
function openApi(schema: z.ZodType): JSONSchema {
  return z.toJSONSchema(schema, {
    target: 'openapi-3.0',
    io: 'input',
    unrepresentable: 'throw',
  }) as JSONSchema;
}

export function openApiV3Schema(def: KindDefinition): JSONSchema {
  const root: JSONSchema = {
    type: 'object',
    description: def.description,
    properties: {
      apiVersion: {
        type: 'string',
        description: 'APIVersion defines the versioned schema of this representation of an object.',
      },
      kind: {
        type: 'string',
        description:
          'Kind is a string value representing the REST resource this object represents.',
      },
      metadata: { type: 'object' },
      spec: openApi(def.spec),
      status: openApi(def.status),
    },
    required: ['spec'],
  };
  if (def.objectRules?.length) root['x-kubernetes-validations'] = def.objectRules;
  return toStructural(root);
}

export function customResourceDefinition(def: KindDefinition) {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${def.plural}.${GROUP}`,
      labels: { 'app.kubernetes.io/part-of': 'llm-tenancy' },
    },
    spec: {
      group: GROUP,
      names: {
        kind: def.kind,
        listKind: `${def.kind}List`,
        plural: def.plural,
        singular: def.singular,
        shortNames: def.shortNames,
        categories: [CATEGORY],
      },
      scope: def.scope,
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: def.printerColumns,
          schema: { openAPIV3Schema: openApiV3Schema(def) },
        },
      ],
    },
  };
}
