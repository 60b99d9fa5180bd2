import type { MarkerEnvironment } from './markers.ts';

/**
 * What a wheel must fit: the sandbox image's Python and platform. The Python version comes
 * from the kernel's `ready` frame; the image's C library and the host's architecture are
 * facts of the image and of this worker (a sandbox runs on the worker's own CPU).
 */
export interface TargetPlatform {
  /** Such as `3.13.5`. */
  readonly pythonFullVersion: string;
  /** Such as [3, 13]. */
  readonly python: readonly [number, number];
  /** The image's glibc (Debian trixie: 2.41); manylinux_2_N wheels up to it fit. */
  readonly glibc: readonly [number, number];
  /** `x86_64` or `aarch64`. */
  readonly machine: string;
}

/** Debian trixie's glibc, the sandbox image's base (sandbox-image/Dockerfile). */
export const IMAGE_GLIBC: readonly [number, number] = [2, 41];

/** The machine name Python reports (platform.machine()) for a Node architecture. */
export function machineOf(arch: string): string {
  if (arch === 'x64') return 'x86_64';
  if (arch === 'arm64') return 'aarch64';
  return arch;
}

/** The target for a kernel that reported `pythonFullVersion`; the image's Python 3.13 if unknown. */
export function targetPlatform(
  pythonFullVersion: string,
  arch: string = process.arch,
): TargetPlatform {
  const match = /^(\d+)\.(\d+)(?:\.\d+)?/.exec(pythonFullVersion);
  const python: [number, number] = match === null ? [3, 13] : [Number(match[1]), Number(match[2])];
  return {
    pythonFullVersion: match === null ? '3.13.0' : pythonFullVersion,
    python,
    glibc: IMAGE_GLIBC,
    machine: machineOf(arch),
  };
}

/** PEP 508's marker variables for the target (CPython on Linux). */
export function markerEnvironment(target: TargetPlatform, extra = ''): MarkerEnvironment {
  const [major, minor] = target.python;
  return {
    python_version: `${major}.${minor}`,
    python_full_version: target.pythonFullVersion,
    implementation_name: 'cpython',
    implementation_version: target.pythonFullVersion,
    platform_python_implementation: 'CPython',
    python_implementation: 'CPython',
    os_name: 'posix',
    sys_platform: 'linux',
    platform_system: 'Linux',
    platform_machine: target.machine,
    platform_release: '',
    platform_version: '',
    extra,
  };
}

/** How the target is named to a user: "Python 3.13 on linux x86_64". */
export function describeTarget(target: TargetPlatform): string {
  return `Python ${target.python[0]}.${target.python[1]} on linux ${target.machine}`;
}
