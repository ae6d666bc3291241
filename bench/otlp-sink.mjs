// An OTLP/HTTP receiver for `npm run bench -- --compare tracing`: takes every export, counts
// spans' bytes, answers 200 at once. Prints where it listens.
import { createServer } from 'node:http';

let bytes = 0;
const server = createServer((request, response) => {
  request.on('data', (chunk) => {
    bytes += chunk.length;
  });
  request.on('end', () => {
    response.writeHead(200, {
      'content-type': request.headers['content-type'] ?? 'application/json',
    });
    response.end();
  });
});
server.listen(0, '127.0.0.1', () => {
  console.log(`otlp sink listening on http://127.0.0.1:${server.address().port}`);
});
process.on('SIGTERM', () => {
  console.log(`otlp sink received ${bytes} bytes`);
  server.close(() => process.exit(0));
});
