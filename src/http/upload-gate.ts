import type { Socket } from 'node:net';
import type { RequestHandler, Response } from 'express';
import { ServerBusyError } from '../domain/errors.js';
import { messages } from '../domain/messages.js';

export interface UploadGateOptions {
  /** Uploads read and processed at once; the rest wait, their bodies unread. */
  slots: number;
  /** Uploads allowed to wait; past this, 503 at once. */
  queueLimit: number;
  /** Once in, the body must have arrived within this long, or the connection is cut. */
  bodyTimeoutMs: number;
}

/** Per response: keeps its slot taken while the upload is processed (see holdUploadSlot). */
const holders = new WeakMap<Response, () => () => void>();

/**
 * One 'close' listener per connection, however many requests wait on it: a client pipelining
 * many uploads would otherwise trip Node's MaxListenersExceededWarning.
 */
const closeWatchers = new WeakMap<Socket, Set<() => void>>();
function onConnectionClose(socket: Socket, callback: () => void): () => void {
  let callbacks = closeWatchers.get(socket);
  if (!callbacks) {
    const set = new Set<() => void>();
    callbacks = set;
    closeWatchers.set(socket, set);
    socket.once('close', () => {
      for (const watcher of [...set]) watcher();
      set.clear();
    });
  }
  callbacks.add(callback);
  return () => callbacks.delete(callback);
}

/**
 * Keeps this request's upload slot taken until the returned function is called, even if the
 * client goes away first: its upload is still being checked and stored, and letting the next
 * one in would run more at once than the gate allows. A no-op without the gate.
 */
export function holdUploadSlot(res: Response): () => void {
  return holders.get(res)?.() ?? (() => {});
}

/**
 * Lets `slots` uploads in at a time, first come first served, before their bodies are read.
 * Waiting bodies stay in the kernel's socket buffers instead of the heap, so memory stays flat
 * however many clients send at once, and the CPU-bound checks run without thrashing. A client
 * that trickles its body cannot keep a slot: past `bodyTimeoutMs` its connection is cut (behind
 * nginx, which buffers whole bodies, that never happens).
 */
export function createUploadGate({ slots, queueLimit, bodyTimeoutMs }: UploadGateOptions): RequestHandler {
  let active = 0;
  const waiting: Array<() => void> = [];
  const release = () => {
    const next = waiting.shift();
    if (next) next();
    else active -= 1;
  };

  return (req, res, next) => {
    const socket = req.socket;
    const enter = () => {
      let released = false;
      let responded = false;
      let holds = 0;
      const deadline = setTimeout(() => {
        if (!req.complete) socket.destroy();
      }, bodyTimeoutMs);
      const leaveWhenDone = () => {
        if (released || !responded || holds > 0) return;
        released = true;
        clearTimeout(deadline);
        stopWatching();
        release();
      };
      const responseDone = () => {
        responded = true;
        leaveWhenDone();
      };
      holders.set(res, () => {
        holds += 1;
        let dropped = false;
        return () => {
          if (dropped) return;
          dropped = true;
          holds -= 1;
          leaveWhenDone();
        };
      });
      // The slot is free once the app has ended the response: 'finish' waits until it is
      // written, which a client that does not read (behind pipelined requests) can hold off.
      const end = res.end;
      res.end = function (this: Response, ...args: unknown[]) {
        const result = (end as (...a: unknown[]) => Response).apply(this, args);
        responseDone();
        return result;
      } as Response['end'];
      res.once('close', responseDone);
      // A pipelined request's response is not attached to the connection until the one before
      // it is done: if the connection dies first, that response never emits 'close'.
      const stopWatching = onConnectionClose(socket, responseDone);
      if (socket.destroyed) {
        responseDone(); // the client left while it waited: nothing to read, nobody to answer
        return;
      }
      next();
    };
    if (active < slots) {
      active += 1;
      enter();
      return;
    }
    if (waiting.length >= queueLimit) {
      res.set('Retry-After', '5');
      next(new ServerBusyError(messages.serverBusy));
      return;
    }
    // A client that gives up while waiting gives its place back.
    const giveUp = () => {
      const index = waiting.indexOf(enterWhenCalled);
      if (index !== -1) waiting.splice(index, 1);
    };
    const enterWhenCalled = () => {
      stopWatchingWhileWaiting();
      enter();
    };
    waiting.push(enterWhenCalled);
    res.once('close', giveUp);
    const stopWatchingWhileWaiting = onConnectionClose(socket, giveUp);
  };
}
