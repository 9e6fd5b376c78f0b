// What a command is: its words ("key create"), a one-line summary, usage, its own flags (on
// top of the global ones kubectl users know), and run(). Each command lives in a file of its
// own under commands/; commands/index.ts lists them.
import type { ParseArgsOptionDescriptor } from 'node:util';
import type { Connection } from './kube/connection.ts';
import type { Resources } from './kube/resources.ts';
import type { OutputFormat } from './output/print.ts';
import type { DryRun } from './kube/resources.ts';

export interface Flag extends ParseArgsOptionDescriptor {
  /** Shown in --help after the flag. */
  help: string;
  /** The value's name in help, e.g. "DURATION". Booleans have none. */
  value?: string;
}

export type Flags = Record<string, Flag>;

export interface GlobalValues {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  allNamespaces: boolean;
  output: OutputFormat;
  dryRun: DryRun;
  as?: string;
  asGroups: string[];
}

/** Where a command writes: stdout for results, stderr for progress and warnings. */
export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  /** stderr is a terminal: progress may redraw one line. */
  interactive: boolean;
  env: Record<string, string | undefined>;
}

export interface CommandContext {
  /** Positional arguments after the command words. */
  args: string[];
  /** The command's own flags, as parsed. */
  values: Record<string, string | boolean | string[] | undefined>;
  global: GlobalValues;
  io: Io;
  /** The connection, made on first use (completion and help need none). */
  connection(): Connection;
  resources(): Resources;
}

export interface Command {
  /** The words that select it: "teams", "key create". */
  name: string;
  summary: string;
  /** After "kubectl llm <name> ": e.g. "NAME --models a,b [flags]". */
  usage: string;
  /** Longer help: what it does, and examples. */
  description?: string;
  examples?: string[];
  flags?: Flags;
  /** Global flags that mean nothing here are hidden from its help. */
  uses?: { namespace?: boolean; allNamespaces?: boolean; output?: boolean; dryRun?: boolean };
  /** Positional arguments: exactly this many (a number), or a range. */
  args?: { min: number; max: number };
  run(ctx: CommandContext): Promise<number | void>;
}
