// lbd's control socket: a Unix stream socket (mode 0600) answering the JSON-lines protocol of
// control-protocol.ts. Commands are registered with handle() (one reply) or stream() (events until the
// client goes away). A bad request gets an error reply; it never affects the daemon.
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { ControlError, ControlReply, ControlRequest, encodeLine, LineSplitter } from './control-protocol';

export type Handler = (args: Record<string, unknown>) => unknown;
/** A streaming handler: calls emit for each event; returns a function that stops the stream. */
export type StreamHandler = (args: Record<string, unknown>, emit: (event: unknown) => void) => () => void;

export class ControlServer {
  private readonly handlers = new Map<string, Handler>();
  private readonly streams = new Map<string, StreamHandler>();
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();

  constructor(readonly socketPath: string) {}

  handle(cmd: string, handler: Handler): this {
    this.handlers.set(cmd, handler);
    return this;
  }

  stream(cmd: string, handler: StreamHandler): this {
    this.streams.set(cmd, handler);
    return this;
  }

  /**
   * Listens. A leftover socket file from a dead daemon is replaced; a live daemon answering on it is an
   * error ("another lbd is running").
   */
  async listen(): Promise<void> {
    fs.mkdirSync(path.dirname(this.socketPath), { recursive: true, mode: 0o755 });
    if (fs.existsSync(this.socketPath)) {
      if (await answers(this.socketPath)) {
        throw new Error(`another lbd is running: its control socket ${this.socketPath} answers`);
      }
      fs.unlinkSync(this.socketPath);
    }
    const server = net.createServer((socket) => this.serve(socket));
    this.server = server;
    const oldMask = process.umask(0o177);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(this.socketPath, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } finally {
      process.umask(oldMask);
    }
    fs.chmodSync(this.socketPath, 0o600);
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    try {
      fs.unlinkSync(this.socketPath);
    } catch {
      // already gone
    }
  }

  private serve(socket: net.Socket): void {
    this.sockets.add(socket);
    const stops: Array<() => void> = [];
    socket.setEncoding('utf8');
    const send = (reply: ControlReply) => {
      if (!socket.destroyed) socket.write(encodeLine(reply));
    };
    const splitter = new LineSplitter(
      (line) => void this.dispatch(line, send, stops),
      () => {
        send({ id: 0, ok: false, error: { code: 'bad-request', message: 'request line too long' } });
        socket.end();
      },
    );
    socket.on('data', (chunk: string) => splitter.push(chunk));
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      this.sockets.delete(socket);
      for (const stop of stops) stop();
    });
  }

  private async dispatch(
    line: string,
    send: (r: ControlReply) => void,
    stops: Array<() => void>,
  ): Promise<void> {
    let req: ControlRequest;
    try {
      req = parseRequest(line);
    } catch (err) {
      send({ id: 0, ok: false, error: { code: 'bad-request', message: (err as Error).message } });
      return;
    }
    const streamer = this.streams.get(req.cmd);
    if (streamer) {
      stops.push(streamer(req.args ?? {}, (event) => send({ id: req.id, event })));
      return;
    }
    const handler = this.handlers.get(req.cmd);
    if (!handler) {
      const known = [...this.handlers.keys(), ...this.streams.keys()].sort().join(', ');
      send({
        id: req.id,
        ok: false,
        error: { code: 'unknown-command', message: `unknown command '${req.cmd}' (known: ${known})` },
      });
      return;
    }
    try {
      send({ id: req.id, ok: true, result: (await handler(req.args ?? {})) ?? null });
    } catch (err) {
      if (err instanceof ControlError) {
        send({
          id: req.id,
          ok: false,
          error: { code: err.code, message: err.message, details: err.details },
        });
      } else {
        send({
          id: req.id,
          ok: false,
          error: { code: 'internal', message: (err as Error).message ?? String(err) },
        });
      }
    }
  }
}

function parseRequest(line: string): ControlRequest {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new Error('request is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new Error('request is not a JSON object');
  const { id, cmd, args } = value as Record<string, unknown>;
  if (typeof id !== 'number' || !Number.isInteger(id)) throw new Error("request has no integer 'id'");
  if (typeof cmd !== 'string' || cmd === '') throw new Error("request has no 'cmd'");
  if (args !== undefined && (typeof args !== 'object' || args === null || Array.isArray(args))) {
    throw new Error("request 'args' is not an object");
  }
  return { id, cmd, args: args as Record<string, unknown> | undefined };
}

function answers(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(socketPath);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
