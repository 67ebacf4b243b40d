import http from 'node:http';
import type { Duplex } from 'node:stream';
import type { Express } from 'express';

export interface ServerOptions {
  port: number;
  host: string;
  /** A request, slow uploads included, is answered or closed after this long. */
  requestTimeoutMs: number;
}

/** Listens with timeouts that keep slow or stalled clients from holding sockets forever. */
export function listen(app: Express, options: ServerOptions): Promise<http.Server> {
  const server = http.createServer(
    {
      requestTimeout: options.requestTimeoutMs,
      headersTimeout: Math.min(options.requestTimeoutMs, 20_000),
      // Node checks those timeouts on this interval (30 s by default, too coarse for them).
      connectionsCheckingInterval: Math.min(5_000, Math.ceil(options.requestTimeoutMs / 2)),
      // Idle keep-alive sockets outlive a typical load balancer's 60 s reuse window.
      keepAliveTimeout: 65_000,
    },
    app,
  );
  server.on('clientError', answerClientError);
  // Clients that send `Expect: 100-continue` (curl does for bodies over 1 MB) are told to send
  // the body only once the app starts reading it, so one that will be refused unread (a body
  // far over the limit) gets its 413 without sending a byte of it.
  server.on('checkContinue', (req, res) => {
    req.once('resume', () => {
      if (!res.headersSent) res.writeContinue();
    });
    app(req, res);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

/**
 * Requests Node itself rejects (a body cut off by the client, a request past its timeout,
 * malformed HTTP) get the same JSON error shape as everything else, then the socket closes.
 */
function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const timedOut = error.code === 'ERR_HTTP_REQUEST_TIMEOUT';
  const status = timedOut ? '408 Request Timeout' : '400 Bad Request';
  const body = JSON.stringify({
    error: timedOut
      ? { code: 'request_timeout', message: 'The request took too long to arrive. Check the connection and try again.' }
      : {
          code: 'bad_request',
          message: 'The request could not be read: it is malformed or was cut off. Send it again.',
        },
  });
  socket.end(
    `HTTP/1.1 ${status}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
