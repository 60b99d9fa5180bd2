import { runDoctor, formatCheck, NETWORK_TIMEOUT_MS } from '../../doctor/run-doctor.ts';
import { createDockerClient } from '../../sandbox/docker-client.ts';
import { UsageError, type Command } from '../command.ts';
import { ExitCode } from '../exit-codes.ts';
import { SANDBOT_VERSION } from '../version.ts';

export const doctorCommand: Command = {
  name: 'doctor',
  summary: 'check that everything sandbot needs is installed, configured and answering',
  help: `Usage: sandbot doctor [--offline]

Checks Node.js, the settings, the Docker engine and its API version, the sandbox image (its
version label and package list), the sandbox runtime, Redis when REDIS_URL is set (latency,
eviction policy, memory headroom, live worker heartbeats), and, for real, the services:
the model (is OPENAI_MODEL listed, does it answer a tool-calling request), Slack (auth.test,
the granted scopes against adapters/slack/manifest.yml, a Socket Mode connection) and
Discord (the bot user, the application behind DISCORD_TOKEN against DISCORD_APP_ID, the
registered slash commands). Each network check gives up after ${NETWORK_TIMEOUT_MS / 1000} s and says what it
could not reach. Prints one line per check, with a fix for every problem.

  --offline   do not contact the model, Slack or Discord; check their settings only

Exit status: 0 when everything required is in place (warnings allowed), 1 otherwise.`,
  async run(args, context) {
    const offline = args.includes('--offline');
    const unknown = args.filter((arg) => arg !== '--offline');
    if (unknown.length > 0) throw new UsageError(`unknown argument ${unknown.join(' ')}`);
    context.stdout.write(`sandbot ${SANDBOT_VERSION} on Node.js ${context.nodeVersion}\n\n`);
    const results = await runDoctor({
      env: context.env,
      nodeVersion: context.nodeVersion,
      docker: createDockerClient(),
      offline,
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
