export interface InboundAttachment {
  readonly name: string;
  readonly sizeBytes: number;
  /** Downloads the bytes (with the platform's credentials); called only within limits. */
  fetch(): Promise<Buffer>;
  /**
   * The same file as a reference any bot process can fetch again through its adapter
   * (`ChatAdapter.fetchAttachment`): a Slack file id, a Discord CDN URL, a playground upload
   * id. Never a secret. Absent where the file cannot be fetched again (the terminal).
   */
  readonly ref?: string;
}

/** A message in a thread, as every adapter delivers it. */
export interface InboundMessage {
  /** `platform:workspace:channel:thread`. */
  readonly sessionKey: string;
  /** `groups`: the platform groups the author is in, as ALLOWED_USERS names them after the
   *  platform (`role:<id>` for a Discord member's roles); only the access check reads them. */
  readonly author: {
    readonly id: string;
    readonly name: string;
    readonly groups?: readonly string[];
  };
  readonly text: string;
  readonly attachments: readonly InboundAttachment[];
  /**
   * The platform's id of this message (Slack `channel:ts`, a Discord message id, a playground
   * item id): a durable turn's id, so a redelivery is dropped. Absent: a fresh id is made.
   */
  readonly messageId?: string;
  /**
   * The platform's order of the message in its thread, as a non-negative decimal (Slack `ts`,
   * a Discord snowflake): turns of a thread run in this order. Absent: arrival order.
   */
  readonly order?: string;
}
