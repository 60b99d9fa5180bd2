export interface InboundAttachment {
  readonly name: string;
  readonly sizeBytes: number;
  /** Downloads the bytes (with the platform's credentials); called only within limits. */
  fetch(): Promise<Buffer>;
}

/** A message in a thread, as every adapter delivers it. */
export interface InboundMessage {
  /** `platform:workspace:channel:thread`. */
  readonly sessionKey: string;
  readonly author: { readonly id: string; readonly name: string };
  readonly text: string;
  readonly attachments: readonly InboundAttachment[];
}
