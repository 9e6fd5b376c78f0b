// The plugin's entry: picks the command from the leading words of argv, parses its flags and
// the global ones with util.parseArgs (kubectl's names and short forms), runs it, and turns
// every failure into a message and an exit code: 0 ok, 1 error, 2 usage.
import { parseArgs } from 'node:util';
import type { Command, CommandContext, Flags, GlobalValues, Io } from './command.ts';
import { commands } from './commands/index.ts';
import { CliError, EXIT_ERROR, EXIT_OK, EXIT_USAGE, UsageError } from './errors.ts';
import { connect, type Connection } from './kube/connection.ts';
import { KubeRest } from './kube/rest.ts';
import { Resources } from './kube/resources.ts';
import { OUTPUT_FORMATS, type OutputFormat } from './output/print.ts';

export const globalFlags: Flags = {
  kubeconfig: { type: 'string', value: 'FILE', help: 'Path to the kubeconfig file.' },
  context: { type: 'string', value: 'NAME', help: 'The kubeconfig context to use.' },
  namespace: { type: 'string', short: 'n', value: 'NAMESPACE', help: 'Namespace of the request.' },
  'all-namespaces': {
    type: 'boolean',
    short: 'A',
    help: 'List across all namespaces.',
  },
  output: {
    type: 'string',
    short: 'o',
    value: 'FORMAT',
    help: 'Output format: table, wide, json, yaml or name.',
  },
  'dry-run': {
    type: 'string',
    value: 'MODE',
    help: 'client: print what would be sent without sending it; server: let the apiserver validate it without saving.',
  },
  as: { type: 'string', value: 'USER', help: 'Impersonate this user (as kubectl --as).' },
  'as-group': {
    type: 'string',
    multiple: true,
    value: 'GROUP',
    help: 'Impersonate this group, repeatable (as kubectl --as-group).',
  },
  help: { type: 'boolean', short: 'h', help: 'Help for this command.' },
};

/** Global flags that take a value: their value is not a command word. */
const VALUED = new Set(
  Object.entries(globalFlags).flatMap(([name, f]) =>
    f.type === 'string' ? [`--${name}`, ...(f.short ? [`-${f.short}`] : [])] : [],
  ),
);

/** The command named by the leading words of argv (flags skipped), and the words used. */
export function findCommand(argv: readonly string[]): { command?: Command; words: string[] } {
  const words: string[] = [];
  for (let i = 0; i < argv.length && words.length < 2; i++) {
    const token = argv[i]!;
    if (token === '--') break;
    if (token.startsWith('-')) {
      if (VALUED.has(token)) i++;
      continue;
    }
    words.push(token);
  }
  for (const count of [2, 1]) {
    const name = words.slice(0, count).join(' ');
    const command = commands.find((c) => c.name === name);
    if (command) return { command, words: words.slice(0, count) };
  }
  return { words: words.slice(0, 1) };
}

function withoutWords(argv: readonly string[], words: string[]): string[] {
  const rest = [...argv];
  for (const word of words) {
    let i = 0;
    for (; i < rest.length; i++) {
      if (rest[i] === word) break;
      if (VALUED.has(rest[i]!)) i++;
    }
    rest.splice(i, 1);
  }
  return rest;
}

function parseGlobal(values: Record<string, unknown>): GlobalValues {
  const output = (values.output as string | undefined) ?? 'table';
  if (!OUTPUT_FORMATS.includes(output as OutputFormat)) {
    throw new UsageError(`--output must be one of ${OUTPUT_FORMATS.join(', ')}, not "${output}"`);
  }
  const dryRun = values['dry-run'] as string | undefined;
  if (dryRun !== undefined && dryRun !== 'client' && dryRun !== 'server' && dryRun !== 'none') {
    throw new UsageError(`--dry-run must be client, server or none, not "${dryRun}"`);
  }
  return {
    kubeconfig: values.kubeconfig as string | undefined,
    context: values.context as string | undefined,
    namespace: values.namespace as string | undefined,
    allNamespaces: values['all-namespaces'] === true,
    output: output as OutputFormat,
    dryRun: (dryRun ?? 'none') as GlobalValues['dryRun'],
    as: values.as as string | undefined,
    asGroups: (values['as-group'] as string[] | undefined) ?? [],
  };
}

/** Runs the plugin with `argv` (without node and the script); resolves to the exit code. */
export async function run(argv: readonly string[], io: Io): Promise<number> {
  if (argv[0] === '__complete') {
    const { complete } = await import('./complete.ts');
    io.out(complete(argv.slice(1)));
    return EXIT_OK;
  }
  const { command, words } = findCommand(argv);
  if (!command) {
    const help = argv.length === 0 || argv.includes('--help') || argv.includes('-h');
    if (help && words.length === 0) {
      io.out(rootHelp());
      return EXIT_OK;
    }
    io.err(
      words.length === 0
        ? `error: no command given\n\n${rootHelp()}`
        : `error: unknown command "${words.join(' ')}"; run "kubectl llm --help" for the commands\n`,
    );
    return EXIT_USAGE;
  }
  try {
    const options = { ...globalFlags, ...command.flags };
    const parsed = parseArgs({
      args: withoutWords(argv, words),
      options: Object.fromEntries(
        Object.entries(options).map(([name, { help: _h, value: _v, ...descriptor }]) => [
          name,
          descriptor,
        ]),
      ),
      allowPositionals: true,
      strict: true,
    });
    if (parsed.values.help) {
      io.out(commandHelp(command));
      return EXIT_OK;
    }
    const global = parseGlobal(parsed.values);
    const args = parsed.positionals;
    const expected = command.args ?? { min: 0, max: 0 };
    if (args.length < expected.min || args.length > expected.max) {
      throw new UsageError(
        args.length < expected.min
          ? `missing argument: kubectl llm ${command.name} ${command.usage}`
          : `unexpected argument "${args[expected.max]}"`,
      );
    }
    let connection: Connection | undefined;
    let resources: Resources | undefined;
    const ctx: CommandContext = {
      args,
      values: parsed.values as CommandContext['values'],
      global,
      io,
      connection: () =>
        (connection ??= connect({
          kubeconfig: global.kubeconfig,
          context: global.context,
          namespace: global.namespace,
          as: global.as,
          asGroups: global.asGroups,
        })),
      resources: () => (resources ??= new Resources(new KubeRest(ctx.connection()))),
    };
    return (await command.run(ctx)) ?? EXIT_OK;
  } catch (err) {
    return report(err, command, io);
  }
}

function report(err: unknown, command: Command, io: Io): number {
  if (err instanceof UsageError) {
    io.err(`error: ${err.message}\n\nUsage: kubectl llm ${command.name} ${command.usage}\n`);
    io.err(`Run "kubectl llm ${command.name} --help" for more.\n`);
    return EXIT_USAGE;
  }
  // parseArgs' own errors (unknown flag, missing value) are usage errors too.
  const code = (err as { code?: string }).code;
  if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) {
    return report(new UsageError((err as Error).message), command, io);
  }
  if (err instanceof CliError) {
    io.err(`error: ${err.message}\n`);
    return err.exitCode;
  }
  io.err(`error: ${(err as Error)?.stack ?? String(err)}\n`);
  return EXIT_ERROR;
}

function flagLines(flags: Flags): string {
  const rows = Object.entries(flags).map(([name, f]) => {
    const short = f.short ? `-${f.short}, ` : '    ';
    const value = f.value ? ` ${f.value}` : '';
    return [`  ${short}--${name}${value}`, f.help] as const;
  });
  const width = Math.max(...rows.map(([left]) => left.length)) + 2;
  return rows.map(([left, help]) => `${left.padEnd(width)}${help}\n`).join('');
}

export function commandHelp(command: Command): string {
  const uses = command.uses ?? {};
  const shownGlobal = Object.fromEntries(
    Object.entries(globalFlags).filter(([name]) => {
      if (name === 'namespace') return uses.namespace !== false;
      if (name === 'all-namespaces') return uses.allNamespaces === true;
      if (name === 'output') return uses.output !== false;
      if (name === 'dry-run') return uses.dryRun === true;
      return true;
    }),
  );
  let text = `${command.summary}\n\nUsage:\n  kubectl llm ${command.name} ${command.usage}\n`;
  if (command.description) text += `\n${command.description.trim()}\n`;
  if (command.examples?.length) {
    text += `\nExamples:\n${command.examples.map((e) => `  ${e}\n`).join('')}`;
  }
  if (command.flags && Object.keys(command.flags).length > 0) {
    text += `\nFlags:\n${flagLines(command.flags)}`;
  }
  text += `\nGlobal flags:\n${flagLines(shownGlobal)}`;
  return text;
}

export function rootHelp(): string {
  const width = Math.max(...commands.map((c) => c.name.length)) + 3;
  return (
    'kubectl llm: Teams, Users, ModelSubscriptions and VirtualKeys of llm-tenancy, from kubectl.\n' +
    'It writes custom resources (never LiteLLM), so RBAC and GitOps stay the one path.\n\n' +
    'Usage:\n  kubectl llm COMMAND [flags]\n\nCommands:\n' +
    commands.map((c) => `  ${c.name.padEnd(width)}${c.summary}\n`).join('') +
    '\nRun "kubectl llm COMMAND --help" for a command\'s flags.\n' +
    'Exit codes: 0 success, 1 error, 2 wrong usage.\n'
  );
}
