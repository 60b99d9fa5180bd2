import { execFile } from 'node:child_process';

/**
 * Builds an image `FROM base` with extra Debian packages, as an operator extends the sandbox
 * (docs/models.md). Needs Debian's archive from `docker build`. Returns the tag; remove it
 * with `removeImage` when done.
 */
export async function buildDerivedImage(
  tag: string,
  base: string,
  debianPackages: readonly string[],
): Promise<string> {
  const dockerfile = [
    `FROM ${base}`,
    'USER root',
    'RUN apt-get update \\',
    ` && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${debianPackages.join(' ')} \\`,
    ' && rm -rf /var/lib/apt/lists/*',
    'USER 1000:1000',
    '',
  ].join('\n');
  await docker(['build', '--force-rm', '-q', '-t', tag, '-'], dockerfile);
  return tag;
}

export async function removeImage(tag: string): Promise<void> {
  await docker(['image', 'rm', '-f', tag]).catch(() => undefined);
}

function docker(args: readonly string[], stdin?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      'docker',
      args,
      { maxBuffer: 16 * 1024 * 1024, timeout: 10 * 60_000 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`docker ${args[0] ?? ''} failed: ${stderr.slice(-2000)}`));
        else resolve(stdout);
      },
    );
    child.stdin?.end(stdin ?? '');
  });
}
