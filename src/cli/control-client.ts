// lbctl's side of the control socket (see src/daemon/control-protocol.ts).
import * as net from 'node:net';
import {
  ControlErrorBody,
  ControlReply,
  DEFAULT_CONTROL_SOCKET,
  encodeLine,
  LineSplitter,
} from '../daemon/control-protocol';

/** The daemon answered with an error (its code and message), or could not be reached. */
export class ControlClientError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ControlClientError';
  }
}

export function controlSocketPath(explicit?: string): string {
  return explicit ?? process.env.LBD_CONTROL_SOCKET ?? DEFAULT_CONTROL_SOCKET;
}

function connect(socketPath: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(socketPath);
    socket.once('connect', () => resolve(socket));
    socket.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') {
        reject(
          new ControlClientError(
            'not-running',
            `lbd is not running (no control socket answers at ${socketPath})`,
          ),
        );
      } else if (err.code === 'EACCES') {
        reject(
          new ControlClientError('permission', `permission denied on ${socketPath} (lbctl must run as root)`),
        );
      } else {
        reject(new ControlClientError('connect', `cannot reach lbd at ${socketPath}: ${err.message}`));
      }
    });
  });
}

/** Sends one request and resolves with the daemon's result; rejects with ControlClientError. */
export async function controlRequest(
  cmd: string,
  args: Record<string, unknown> = {},
  opts: { socketPath?: string; timeoutMs?: number } = {},
): Promise<unknown> {
  const socketPath = controlSocketPath(opts.socketPath);
  const socket = await connect(socketPath);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        new ControlClientError('timeout', `lbd did not answer '${cmd}' within ${opts.timeoutMs ?? 30000} ms`),
      );
    }, opts.timeoutMs ?? 30000);
    const done = (fn: () => void) => {
      clearTimeout(timer);
      socket.destroy();
      fn();
    };
    socket.setEncoding('utf8');
    const splitter = new LineSplitter(
      (line) => {
        const reply = JSON.parse(line) as ControlReply;
        if ('ok' in reply && reply.ok) done(() => resolve(reply.result));
        else if ('ok' in reply) done(() => reject(fromBody(reply.error)));
      },
      () => done(() => reject(new ControlClientError('protocol', 'reply line too long'))),
      64 << 20,
    );
    socket.on('data', (chunk: string) => splitter.push(chunk));
    socket.on('close', () =>
      done(() => reject(new ControlClientError('closed', 'lbd closed the connection without answering'))),
    );
    socket.write(encodeLine({ id: 1, cmd, args }));
  });
}

/** Opens a stream (e.g. events --follow): calls onEvent per event; resolves when the daemon closes it. */
export async function controlStream(
  cmd: string,
  args: Record<string, unknown>,
  onEvent: (event: unknown) => void,
  opts: { socketPath?: string; signal?: AbortSignal } = {},
): Promise<void> {
  const socket = await connect(controlSocketPath(opts.socketPath));
  return new Promise((resolve, reject) => {
    opts.signal?.addEventListener('abort', () => socket.destroy());
    socket.setEncoding('utf8');
    const splitter = new LineSplitter(
      (line) => {
        const reply = JSON.parse(line) as ControlReply;
        if ('event' in reply) onEvent(reply.event);
        else if ('ok' in reply && !reply.ok) {
          socket.destroy();
          reject(fromBody(reply.error));
        }
      },
      () => socket.destroy(),
      64 << 20,
    );
    socket.on('data', (chunk: string) => splitter.push(chunk));
    socket.on('close', () => resolve());
    socket.write(encodeLine({ id: 1, cmd, args }));
  });
}

function fromBody(body: ControlErrorBody): ControlClientError {
  return new ControlClientError(body.code, body.message, body.details);
}
