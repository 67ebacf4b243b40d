import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type S3Fault =
  | { kind: 'acl-not-supported' }
  | { kind: 'permanent-redirect'; region: string }
  | { kind: 'internal-error' }
  /** Every connection is cut without an answer, as when the endpoint is down or unreachable. */
  | { kind: 'connection-reset' }
  /** Requests are taken and never answered, as by a stopped (SIGSTOP) or overloaded server. */
  | { kind: 'hang' };

export interface RecordedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
}

/**
 * An HTTP endpoint in front of a real S3-compatible server that answers the way only real AWS
 * does when told to (ACLs disabled on the bucket, bucket in another region, 500s), and records
 * the headers of every request it forwards. The SDK under test is never stubbed.
 */
export async function startFaultInjectingS3(upstream: string) {
  let fault: S3Fault | undefined;
  const requests: RecordedRequest[] = [];

  const server = http.createServer((req, res) => {
    requests.push({ method: req.method!, url: req.url!, headers: req.headers });
    if (fault?.kind === 'connection-reset') {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'hang') {
      req.resume();
      return;
    }
    const answer = fault && errorFor(fault, req);
    if (answer) {
      req.resume();
      res.writeHead(answer.status, { 'Content-Type': 'application/xml', ...answer.headers });
      res.end(answer.body);
      return;
    }
    const target = new URL(req.url!, upstream);
    const forward = http.request(target, { method: req.method, headers: req.headers }, (upstreamRes) => {
      res.writeHead(upstreamRes.statusCode!, upstreamRes.headers);
      upstreamRes.pipe(res);
    });
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));

  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    inject(next: S3Fault | undefined) {
      fault = next;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function errorFor(fault: S3Fault, req: http.IncomingMessage) {
  const xml = (code: string, message: string, extra = '') =>
    `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message>${extra}<RequestId>FAULT</RequestId></Error>`;
  switch (fault.kind) {
    case 'acl-not-supported':
      // AWS refuses any request carrying an ACL when the bucket's object ownership is "enforced".
      if (!req.headers['x-amz-acl']) return undefined;
      return { status: 400, headers: {}, body: xml('AccessControlListNotSupported', 'The bucket does not allow ACLs') };
    case 'permanent-redirect':
      return {
        status: 301,
        headers: { 'x-amz-bucket-region': fault.region },
        body: xml(
          'PermanentRedirect',
          'The bucket you are attempting to access must be addressed using the specified endpoint.',
          `<Endpoint>s3.${fault.region}.amazonaws.com</Endpoint>`,
        ),
      };
    case 'connection-reset':
    case 'hang':
      return undefined;
    case 'internal-error':
      return {
        status: 500,
        headers: {},
        body: xml('InternalError', 'We encountered an internal error. Please try again.'),
      };
  }
}
