/** Where in Slack a turn's messages go: a channel, and a thread in it unless top level. */
export interface SlackPlace {
  readonly channel: string;
  /** Undefined: top level of the channel (slash command answers). */
  readonly threadTs: string | undefined;
}

/** chat.postMessage arguments for the place (no `thread_ts: undefined` key at top level). */
export function placeArgs(place: SlackPlace): { channel: string; thread_ts?: string } {
  return place.threadTs === undefined
    ? { channel: place.channel }
    : { channel: place.channel, thread_ts: place.threadTs };
}
