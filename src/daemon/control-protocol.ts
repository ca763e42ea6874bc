// The control socket's protocol, shared by lbd (server) and lbctl (client): newline-delimited JSON over a
// Unix stream socket. Each request is one line; the reply to a request is one line with the same id, or,
// for a streaming command (events --follow), any number of event lines with that id until the client
// closes the connection.
//
//   -> {"id":1,"cmd":"status","args":{}}
//   <- {"id":1,"ok":true,"result":{...}}
//   <- {"id":2,"ok":false,"error":{"code":"invalid-config","message":"...","details":[...]}}
//   <- {"id":3,"event":{"seq":42,...}}

export const DEFAULT_CONTROL_SOCKET = '/run/lbd/lbd.sock';

/** The longest request line accepted, in bytes. */
export const MAX_REQUEST_BYTES = 1 << 20;

export interface ControlRequest {
  id: number;
  cmd: string;
  args?: Record<string, unknown>;
}

export interface ControlErrorBody {
  /** Machine-readable: bad-request, unknown-command, invalid-config, not-found, internal, ... */
  code: string;
  message: string;
  details?: unknown;
}

export type ControlReply =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: ControlErrorBody }
  | { id: number; event: unknown };

/** An error a handler throws to answer with a given code (and optional details) instead of 'internal'. */
export class ControlError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ControlError';
  }
}

/** Serialises a reply; 64-bit counters (bigint) become decimal strings so nothing is lost. */
export function encodeLine(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) + '\n';
}

/** Splits a byte stream into lines; calls onLine for each complete one, onOverflow when a line is too long. */
export class LineSplitter {
  private buffered = '';
  constructor(
    private readonly onLine: (line: string) => void,
    private readonly onOverflow: () => void,
    private readonly maxBytes = MAX_REQUEST_BYTES,
  ) {}

  push(chunk: string): void {
    this.buffered += chunk;
    let nl: number;
    while ((nl = this.buffered.indexOf('\n')) >= 0) {
      const line = this.buffered.slice(0, nl);
      this.buffered = this.buffered.slice(nl + 1);
      if (line.trim() !== '') this.onLine(line);
    }
    if (this.buffered.length > this.maxBytes) {
      this.buffered = '';
      this.onOverflow();
    }
  }
}
