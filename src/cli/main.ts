import { resolve } from 'node:path';
import { readEnvironment } from '../config/environment.ts';
import { errorMessage, isSandbotError } from '../core/errors.ts';
import { UsageError, type Command, type CommandContext } from './command.ts';
import { auditCommand } from './commands/audit.ts';
import { chatCommand } from './commands/chat.ts';
import { doctorCommand } from './commands/doctor.ts';
import { execCommand } from './commands/exec.ts';
import { gcCommand } from './commands/gc.ts';
import { startCommand } from './commands/start.ts';
import { workerCommand } from './commands/worker.ts';
import { ExitCode } from './exit-codes.ts';
import { ConfigExit } from './load-config.ts';
import { SANDBOT_VERSION } from './version.ts';

/** Shutdown time of a command that does not name its own. */
const DEFAULT_SHUTDOWN_MS = 10_000;

const COMMANDS: readonly Command[] = [
  startCommand,
  doctorCommand,
  execCommand,
  workerCommand,
  chatCommand,
  gcCommand,
  auditCommand,
];

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  const lines = COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return `Usage: sandbot <command> [options]
       sandbot --version

Commands:
${lines.join('\n')}

Run \`sandbot <command> --help\` for a command's options.
Settings come from the environment and an optional .env file in the current directory.
`;
}

export async function main(argv: readonly string[], context: CommandContext): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    context.stdout.write(usage());
    return name === undefined ? ExitCode.Usage : ExitCode.Ok;
  }
  if (name === '--version' || name === '-v' || name === 'version') {
    context.stdout.write(`sandbot ${SANDBOT_VERSION}\n`);
    return ExitCode.Ok;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (command === undefined) {
    context.stderr.write(`sandbot: unknown command '${name}'\n\n${usage()}`);
    return ExitCode.Usage;
  }
  if (args.includes('--help') || args.includes('-h')) {
    context.stdout.write(`${command.help}\n`);
    return ExitCode.Ok;
  }
  try {
    return await command.run(args, context);
  } catch (error) {
    if (error instanceof ConfigExit) return ExitCode.Config;
    if (error instanceof UsageError) {
      context.stderr.write(`sandbot ${command.name}: ${error.message}\n${command.help}\n`);
      return ExitCode.Usage;
    }
    if (
      isSandbotError(error, 'DOCKER_UNAVAILABLE') ||
      isSandbotError(error, 'SANDBOX_IMAGE_MISSING') ||
      isSandbotError(error, 'REDIS_UNAVAILABLE')
    ) {
      context.stderr.write(`sandbot ${command.name}: ${error.message}\n`);
      return ExitCode.Unavailable;
    }
    if (isSandbotError(error, 'WORKER_ID_IN_USE')) {
      context.stderr.write(`sandbot ${command.name}: ${error.message}\n`);
      return ExitCode.Config;
    }
    context.stderr.write(`sandbot ${command.name}: ${errorMessage(error)}\n`);
    return ExitCode.Failed;
  }
}

/** The process entry point (bin/sandbot.js): wires the real environment and signals. */
export async function runCli(): Promise<void> {
  const controller = new AbortController();
  const command = COMMANDS.find((c) => c.name === process.argv[2]);
  const shutdownMs = command?.shutdownMs ?? DEFAULT_SHUTDOWN_MS;
  let interrupted = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    interrupted += 1;
    // A second signal means "now": skip the graceful path.
    if (interrupted > 1) process.exit(signal === 'SIGINT' ? 130 : 143);
    controller.abort();
    // Whatever the shutdown waits on (a job that never ends, a library that does not let go
    // of a socket), the process ends within the command's documented time.
    setTimeout(() => {
      process.stderr.write(
        `sandbot: did not stop within ${shutdownMs / 1000} s of ${signal}; exiting now\n`,
      );
      process.exit(ExitCode.Failed);
    }, shutdownMs).unref();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // A library failing for good outside any await of ours (a Socket Mode reconnect with a
  // revoked token, say) would otherwise end the process with a bare stack trace.
  process.on('unhandledRejection', (reason) => {
    process.stderr.write(`sandbot: unexpected failure, stopping: ${errorMessage(reason)}\n`);
    process.exit(ExitCode.Failed);
  });
  const context: CommandContext = {
    env: readEnvironment(process.env, resolve('.env')),
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    nodeVersion: process.version,
    signal: controller.signal,
  };
  const code = await main(process.argv.slice(2), context);
  // The command is done: end now rather than when the last library timer lets go (a refused
  // ioredis connect keeps its connect timer for seconds), once what was printed is written.
  await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
  process.exit(code);
}

function flushed(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => stream.write('', () => resolve()));
}
