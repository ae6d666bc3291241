// Module hooks (they run off the main thread): each module's URL is appended to the log once the
// module is loaded.
import { appendFileSync } from 'node:fs';

let file;

export function initialize(data) {
  file = data?.file;
}

export async function load(url, context, nextLoad) {
  const result = await nextLoad(url, context);
  if (file !== undefined && url.startsWith('file:')) appendFileSync(file, `${url}\n`);
  return result;
}
