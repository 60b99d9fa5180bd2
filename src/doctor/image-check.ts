import { errorMessage } from '../core/errors.ts';
import { isNotFound, type Docker } from '../sandbox/docker-client.ts';
import { fail, ok, type CheckResult } from './check.ts';
import { imagePackages } from './image-packages.ts';

/** The OCI label a build stamps its version in. */
const VERSION_LABEL = 'org.opencontainers.image.version';
/** Packages shown before the list is cut short. */
const SHOWN_PACKAGES = 12;

/**
 * The sandbox image: built, its size, its version label and its Python packages, which is
 * what a derived image's operator wants to see confirmed: a label whose name ends in
 * `packages` (names separated by commas, spaces or newlines) when the image carries one,
 * otherwise the list the image's own runner gives in a throwaway container (the list the
 * model is told). What cannot be found is said, not failed: an older image still runs.
 */
export async function checkImage(docker: Docker, image: string): Promise<CheckResult> {
  try {
    const inspected = await docker.getImage(image).inspect();
    const sizeMb = Math.round(inspected.Size / 1e6);
    // Typed as always present, but the engine sends null for an image without labels.
    const labels = (inspected.Config.Labels as Record<string, string> | null) ?? {};
    const version = labels[VERSION_LABEL];
    const parts = [
      `${image} (${sizeMb} MB)`,
      version === undefined ? 'no version label' : `version ${version}`,
      describePackages(labels) ?? (await listedPackages(docker, image)),
    ];
    return ok('sandbox image', parts.join(', '));
  } catch (error) {
    if (isNotFound(error)) {
      return fail(
        'sandbox image',
        `${image} is not built`,
        'run `npm run sandbox:build` (works offline; about a minute)',
      );
    }
    return fail('sandbox image', errorMessage(error), 'check that the Docker engine is healthy');
  }
}

function describePackages(labels: Record<string, string>): string | undefined {
  const key = Object.keys(labels).find((name) => /(^|[.\-_])packages$/.test(name));
  if (key === undefined) return undefined;
  return packageList((labels[key] ?? '').split(/[\s,]+/).filter((name) => name !== ''));
}

async function listedPackages(docker: Docker, image: string): Promise<string> {
  try {
    const names = await imagePackages(docker, image);
    if (names === undefined) return 'its packages could not be listed in time';
    return packageList(names);
  } catch (error) {
    return `its packages could not be listed (${errorMessage(error)})`;
  }
}

function packageList(names: readonly string[]): string {
  const shown = names.slice(0, SHOWN_PACKAGES).join(', ');
  const more = names.length > SHOWN_PACKAGES ? ` and ${names.length - SHOWN_PACKAGES} more` : '';
  return `${names.length} Python packages (${shown}${more})`;
}
