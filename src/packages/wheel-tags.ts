import { normalizeName } from './package-name.ts';
import type { TargetPlatform } from './target-platform.ts';

/** The parts of a wheel's file name (PEP 427 / the binary distribution format). */
export interface WheelName {
  /** Normalised. */
  readonly name: string;
  readonly version: string;
  readonly pythonTags: readonly string[];
  readonly abiTags: readonly string[];
  readonly platformTags: readonly string[];
}

/** `{name}-{version}(-{build})?-{python}-{abi}-{platform}.whl`, or undefined. */
export function parseWheelName(fileName: string): WheelName | undefined {
  if (!fileName.endsWith('.whl')) return undefined;
  const parts = fileName.slice(0, -4).split('-');
  if (parts.length !== 5 && parts.length !== 6) return undefined;
  const [name, version] = parts;
  const [python, abi, platform] = parts.slice(-3);
  if (!name || !version || !python || !abi || !platform) return undefined;
  return {
    name: normalizeName(name),
    version,
    pythonTags: python.split('.'),
    abiTags: abi.split('.'),
    platformTags: platform.split('.'),
  };
}

/** Old manylinux names and the glibc they stand for. */
const LEGACY_MANYLINUX: Readonly<Record<string, readonly [number, number]>> = {
  manylinux1: [2, 5],
  manylinux2010: [2, 12],
  manylinux2014: [2, 17],
};

/** How well a platform tag fits (higher is more specific); undefined: it does not. */
function platformScore(tag: string, target: TargetPlatform): number | undefined {
  if (tag === 'any') return 0;
  if (tag === `linux_${target.machine}`) return 1;
  const suffix = `_${target.machine}`;
  if (!tag.endsWith(suffix)) return undefined;
  const stem = tag.slice(0, -suffix.length);
  const modern = /^manylinux_(\d+)_(\d+)$/.exec(stem);
  const glibc = modern === null ? LEGACY_MANYLINUX[stem] : [Number(modern[1]), Number(modern[2])];
  if (glibc === undefined) return undefined; // musllinux, macOS, Windows...
  const [major = 0, minor = 0] = glibc;
  const [targetMajor, targetMinor] = target.glibc;
  if (major > targetMajor || (major === targetMajor && minor > targetMinor)) return undefined;
  return 2 + major * 1000 + minor;
}

/** How well a python and abi tag pair fits (higher is better); undefined: it does not. */
function interpreterScore(python: string, abi: string, target: TargetPlatform): number | undefined {
  const [major, minor] = target.python;
  const cp = /^cp(\d)(\d+)$/.exec(python);
  const py = /^py(\d)(\d*)$/.exec(python);
  if (cp !== null && Number(cp[1]) === major) {
    const builtFor = Number(cp[2]);
    if (abi === `cp${major}${minor}` && builtFor === minor) return 4;
    if (abi === 'abi3' && builtFor <= minor) return 3;
    if (abi === 'none' && builtFor === minor) return 2;
    return undefined;
  }
  if (py !== null && Number(py[1]) === major && abi === 'none') {
    if (py[2] === '') return 1;
    return Number(py[2]) <= minor ? 1 : undefined;
  }
  return undefined;
}

/**
 * How well a wheel fits the target: a positive score (the best of its tag combinations,
 * interpreter first, then platform), or undefined when none of them fits.
 */
export function wheelScore(wheel: WheelName, target: TargetPlatform): number | undefined {
  let best: number | undefined;
  for (const python of wheel.pythonTags) {
    for (const abi of wheel.abiTags) {
      const interpreter = interpreterScore(python, abi, target);
      if (interpreter === undefined) continue;
      for (const platform of wheel.platformTags) {
        const score = platformScore(platform, target);
        if (score === undefined) continue;
        const total = interpreter * 1_000_000 + score + 1;
        if (best === undefined || total > best) best = total;
      }
    }
  }
  return best;
}
