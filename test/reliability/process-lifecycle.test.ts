import { readdir, writeFile, mkdir } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { sample } from '../support/samples.js';
import { listeningOrigin, startServer, useCleanups } from '../support/server-process.js';

const BOUNDARY = 'lifecycleBoundary';

/** A multipart upload split in two, so a test can act between the halves. */
function splitUpload(bytes: Buffer, { keepAlive = false } = {}) {
  const head = Buffer.from(
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="name"\r\n\r\nAda\r\n` +
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="image"; filename="a.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${BOUNDARY}--\r\n`);
  const body = Buffer.concat([head, bytes, tail]);
  const request = Buffer.from(
    `POST /images HTTP/1.1\r\nHost: localhost\r\nContent-Type: multipart/form-data; boundary=${BOUNDARY}\r\nContent-Length: ${body.length}\r\n${keepAlive ? '' : 'Connection: close\r\n'}\r\n`,
  );
  const half = Math.floor(body.length / 2);
  return { first: Buffer.concat([request, body.subarray(0, half)]), second: body.subarray(half) };
}

function openSocket(origin: string): Promise<{ socket: net.Socket; reply: Promise<string> }> {
  const { port } = new URL(origin);
  return new Promise((resolve) => {
    const socket = net.connect(Number(port), '127.0.0.1', () => {
      const reply = new Promise<string>((done) => {
        let received = '';
        socket.on('data', (d) => (received += d));
        socket.on('close', () => done(received));
        socket.on('error', () => done(received));
      });
      resolve({ socket, reply });
    });
  });
}

describe('process lifecycle', () => {
  const { tempDir, onCleanup } = useCleanups('snapstore-lifecycle-');

  it('SIGTERM with an upload in flight: it finishes, new connections are refused, exit 0', async () => {
    const dir = await tempDir();
    const server = startServer(dir, {});
    onCleanup(async () => server.child.kill('SIGKILL'));
    const origin = await listeningOrigin(server);

    const { first, second } = splitUpload(sample('jpg/DSCN0010.jpg'));
    const { socket, reply } = await openSocket(origin);
    socket.write(first);
    await new Promise((resolve) => setTimeout(resolve, 200));
    server.child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 300));

    await expect(fetch(`${origin}/healthz`)).rejects.toThrow();
    expect(server.child.exitCode).toBeNull();

    socket.write(second);
    const answer = await reply;
    expect(answer).toMatch(/^HTTP\/1\.1 201/);
    expect(await server.exited).toBe(0);
    expect(await readdir(path.join(dir, 'uploads'), { recursive: true })).toHaveLength(3); // image, thumbs/, thumbnail
  });

  it('SIGTERM with an upload in flight on a keep-alive connection: the connection is closed after it, exit 0 at once', async () => {
    const dir = await tempDir();
    const server = startServer(dir, {});
    onCleanup(async () => server.child.kill('SIGKILL'));
    const origin = await listeningOrigin(server);

    const { first, second } = splitUpload(sample('jpg/DSCN0010.jpg'), { keepAlive: true });
    const { socket, reply } = await openSocket(origin);
    socket.write(first);
    await new Promise((resolve) => setTimeout(resolve, 200));
    server.child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const sent = Date.now();
    socket.write(second); // the client keeps the connection open after its answer
    expect(await reply).toMatch(/^HTTP\/1\.1 201/);
    expect(await server.exited).toBe(0);
    expect(Date.now() - sent).toBeLessThan(5_000); // not the 25 s grace period
  });

  it('an upload begun on an open connection when SIGTERM arrives gets a readable 503, not a broken pipe', async () => {
    const dir = await tempDir();
    const server = startServer(dir, {});
    onCleanup(async () => server.child.kill('SIGKILL'));
    const origin = await listeningOrigin(server);
    const { first, second } = splitUpload(sample('jpg/jolla.jpg'));
    const inFlight = await openSocket(origin);
    inFlight.socket.write(first); // keeps the server from exiting while the second client talks

    // A second client has begun its request (headers not finished) when SIGTERM arrives.
    const late = splitUpload(sample('jpg/jolla.jpg'));
    const lateRequest = Buffer.concat([late.first, late.second]);
    const headerEnd = lateRequest.indexOf('\r\n\r\n');
    const { socket, reply } = await openSocket(origin);
    socket.write(lateRequest.subarray(0, headerEnd));
    await new Promise((resolve) => setTimeout(resolve, 200));
    server.child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 200));
    socket.write(lateRequest.subarray(headerEnd, headerEnd + 300_000));
    await new Promise((resolve) => setTimeout(resolve, 100));
    socket.write(lateRequest.subarray(headerEnd + 300_000));
    const answer = await reply;
    expect(answer).toMatch(/^HTTP\/1\.1 503/);
    expect(answer).toContain('"code":"shutting_down"');

    inFlight.socket.write(second);
    expect(await inFlight.reply).toMatch(/^HTTP\/1\.1 201/);
    expect(await server.exited).toBe(0);
  });

  it('kill -9 mid-upload, then start again: nothing half-stored, leftovers removed, uploads work', async () => {
    const dir = await tempDir();
    const first = startServer(dir, {});
    onCleanup(async () => first.child.kill('SIGKILL'));
    const origin = await listeningOrigin(first);
    const { first: half } = splitUpload(sample('jpg/jolla.jpg'));
    const { socket } = await openSocket(origin);
    socket.write(half);
    await new Promise((resolve) => setTimeout(resolve, 200));
    first.child.kill('SIGKILL');
    await first.exited;
    socket.destroy();
    // What a crash in the middle of writing a file would leave.
    await mkdir(path.join(dir, 'uploads'), { recursive: true });
    await writeFile(path.join(dir, 'uploads', '01a23ccb-7704-7139-9b93-d20888c1e610.jpg.a1b2c3.partial'), 'half');

    const second = startServer(dir, {});
    onCleanup(async () => second.child.kill('SIGKILL'));
    const secondOrigin = await listeningOrigin(second);
    expect(await readdir(path.join(dir, 'uploads'))).toEqual([]);
    const form = new FormData();
    form.set('name', 'Ada');
    form.set('image', new Blob([sample('jpg/Canon_40D.jpg')]), 'a.jpg');
    expect((await fetch(`${secondOrigin}/images`, { method: 'POST', body: form })).status).toBe(201);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  });
});
