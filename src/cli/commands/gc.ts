import { parseArgs } from 'node:util';
import { createDockerClient } from '../../sandbox/docker-client.ts';
import { sweepSandboxes, type SweptItem } from '../../sandbox/sweep.ts';
import { UsageError, type Command } from '../command.ts';
import { ExitCode } from '../exit-codes.ts';

const HELP = `Usage: sandbot gc [--all] [--label KEY=VALUE]...

Removes the sandbot sandboxes on this host's Docker that nobody may keep, and prints each:
containers past their hard lifetime (label sandbot.expires, SANDBOX_MAX_LIFETIME_S after
they were made), stopped containers (at once for \`sandbot exec --session\` ones, after a
minute for others), and volumes no container uses (after a minute). Workers and
\`sandbot exec\` do the same by themselves; this clears what is left when none runs.

Options:
  --all              remove every sandbot container, running or not, and every sandbot
                     volume: live sessions lose their state
  --label KEY=VALUE  only sandboxes that also carry this label (repeatable), for example
                     sandbot.deployment=PREFIX or sandbot.session=ID

Exit status: 0 when done (also when there was nothing to remove); 2 for a bad command line;
69 when Docker is unreachable.`;

export const gcCommand: Command = {
  name: 'gc',
  summary: 'remove expired and stopped sandbox containers and unused volumes on this host',
  help: HELP,
  async run(args, context) {
    const { all, labels } = parseGcArgs(args);
    const swept = await sweepSandboxes(createDockerClient(), { all, labels });
    for (const item of swept) context.stdout.write(`${describe(item)}\n`);
    const containers = swept.filter((i) => i.kind === 'container').length;
    const volumes = swept.length - containers;
    context.stdout.write(
      `removed ${plural(containers, 'container')} and ${plural(volumes, 'volume')}\n`,
    );
    return ExitCode.Ok;
  },
};

function parseGcArgs(args: readonly string[]): { all: boolean; labels: Record<string, string> } {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
        all: { type: 'boolean' },
        label: { type: 'string', multiple: true },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const labels: Record<string, string> = {};
  for (const pair of values.label ?? []) {
    const match = /^([A-Za-z0-9][A-Za-z0-9_.-]*)=([^,\s]+)$/.exec(pair);
    if (match === null) throw new UsageError(`--label takes KEY=VALUE (got ${pair})`);
    labels[match[1] as string] = match[2] as string;
  }
  return { all: values.all ?? false, labels };
}

const REASONS: Record<SweptItem['reason'], string> = {
  expired: 'past its hard lifetime',
  exited: 'stopped',
  orphaned: 'used by no container',
  all: '--all',
};

function describe(item: SweptItem): string {
  const session = item.session === undefined ? '' : `, session ${item.session}`;
  return `removed ${item.kind} ${item.name} (${REASONS[item.reason]}${session})`;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
