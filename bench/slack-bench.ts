/** Event to first visible progress through the Slack adapter against its fake server (issue 6). */
export function benchSlack(
  _image: string,
  _log: (line: string) => void,
): Promise<Record<string, number>> {
  return Promise.resolve({});
}
