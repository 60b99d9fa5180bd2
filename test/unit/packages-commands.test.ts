import { describe, expect, it } from 'vitest';
import {
  installPackagesTool,
  parseInstallArguments,
} from '../../src/agent/install-packages-tool.ts';
import { buildSystemPrompt } from '../../src/agent/system-prompt.ts';
import { parseMessage } from '../../src/conversation/parse-message.ts';
import { installArguments } from '../../src/packages/package-commands.ts';
import { describeInstalled, describePackages } from '../../src/packages/request-install.ts';

describe('the install and packages commands', () => {
  it('reads `install NAME…` with pins, and `packages` alone', () => {
    expect(parseMessage('install tabulate tinytable==1.2')).toEqual({
      kind: 'command',
      name: 'install',
      argument: 'tabulate tinytable==1.2',
    });
    expect(parseMessage('/packages')).toEqual({ kind: 'command', name: 'packages', argument: '' });
    expect(installArguments('tabulate, tinytable==1.2  sbdep')).toEqual([
      'tabulate',
      'tinytable==1.2',
      'sbdep',
    ]);
  });

  it('leaves questions to the model', () => {
    expect(parseMessage('install')).toMatchObject({ kind: 'chat' });
    expect(parseMessage('install what? `pip`')).toMatchObject({ kind: 'chat' });
    expect(parseMessage('packages are what?')).toMatchObject({ kind: 'chat' });
  });

  it('tells what was installed and what was refused, and why', () => {
    const text = describePackages({
      installed: [{ name: 'sbtiny', version: '1.0' }],
      refused: [{ name: 'sboff', reason: 'not on the allowlist', offAllowlist: true }],
      notices: [],
    });
    expect(text).toBe(
      'Installed (importable now): sbtiny 1.0.\nNot installed: sboff: not on the allowlist.',
    );
    expect(describeInstalled({ installed: [], refused: [], notices: [] })).toMatch(
      /^No packages installed in this thread/,
    );
  });
});

describe('the install_packages tool', () => {
  it('names the allowlist for the model, bounded', () => {
    const many = Array.from({ length: 45 }, (_, i) => `p${i}`);
    const description = installPackagesTool(many).function.description ?? '';
    expect(description).toContain('p0, p1');
    expect(description).toContain('and 5 more');
    expect(installPackagesTool(['*']).function.description).toContain('any package the index has');
  });

  it('takes a list of names and refuses anything else with a reason', () => {
    expect(parseInstallArguments('{"packages": [" tabulate "]}')).toEqual({
      packages: ['tabulate'],
    });
    expect(parseInstallArguments('{"packages": []}')).toHaveProperty('error');
    expect(parseInstallArguments('{"names": "x"}')).toHaveProperty('error');
    expect(parseInstallArguments('not json')).toHaveProperty('error');
  });
});

describe('the system prompt and packages', () => {
  it('says nothing can be installed without an index, and names the tool with one', () => {
    expect(buildSystemPrompt()).toContain('nothing can be installed');
    const withIndex = buildSystemPrompt({ installable: true });
    expect(withIndex).toContain('call `install_packages`');
    expect(withIndex).not.toContain('nothing can be installed');
  });
});
