import { runDoctor, formatCheck } from '../../doctor/run-doctor.ts';
import { createDockerClient } from '../../sandbox/docker-client.ts';
import { UsageError, type Command } from '../command.ts';
import { ExitCode } from '../exit-codes.ts';

export const doctorCommand: Command = {
  name: 'doctor',
  summary: 'check that everything sandbot needs is installed and configured',
  help: `Usage: sandbot doctor

Checks Node.js, the settings, the Docker engine and its API version, the sandbox image,
the sandbox runtime, Redis (when REDIS_URL is set) and its eviction policy, the model
endpoint, and the Slack and Discord credentials. Prints one line per check, with a fix
for every problem.

Exit status: 0 when everything required is in place (warnings allowed), 1 otherwise.`,
  async run(args, context) {
    if (args.length > 0) throw new UsageError(`doctor takes no arguments (got ${args.join(' ')})`);
    const results = await runDoctor({
      env: context.env,
      nodeVersion: context.nodeVersion,
      docker: createDockerClient(),
    });
    for (const result of results) context.stdout.write(`${formatCheck(result)}\n`);
    const failures = results.filter((r) => r.status === 'fail').length;
    const warnings = results.filter((r) => r.status === 'warn').length;
    context.stdout.write(
      failures === 0
        ? `\nready${warnings > 0 ? ` (${warnings} warning${warnings > 1 ? 's' : ''})` : ''}\n`
        : `\n${failures} problem${failures > 1 ? 's' : ''} to fix before sandbot can run\n`,
    );
    return failures === 0 ? ExitCode.Ok : ExitCode.Failed;
  },
};
