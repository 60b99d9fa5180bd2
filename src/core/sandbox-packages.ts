/**
 * The Python distributions of the sandbox image, as a worker's runner listed them when a
 * kernel started (a derived image's extra packages included). The model's prompt names them.
 */
export interface SandboxPackages {
  /** The newest list, or undefined while no kernel has reported one. Never throws. */
  list(): Promise<readonly string[] | undefined>;
}
