// s3rver in a process of its own (so its CPU can be told apart from the app's), on a free
// port, storing into the directory given as argv[2]. Sends { port } to the parent when up.
import S3rver from 's3rver';

const directory = process.argv[2];
if (!directory) throw new Error('usage: node bench/s3-server.mjs DIRECTORY');

// s3rver 3.7 can throw from a file stream when two requests race on one key (a PUT into a
// folder that a DELETE of the same key just removed); keep serving instead of dying mid-run.
process.on('uncaughtException', (error) => console.error(`s3rver: ${error.message}`));

const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory });
const { port } = await server.run();
process.send?.({ type: 'listening', port });

const stop = async () => {
  await server.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.on('disconnect', stop);
