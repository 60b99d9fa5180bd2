/** Event to first visible progress through the Discord adapter against its fake server (issue 7). */
export function benchDiscord(
  _image: string,
  _log: (line: string) => void,
): Promise<Record<string, number>> {
  return Promise.resolve({});
}
