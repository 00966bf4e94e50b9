/**
 * Rewrites the pinned outputs of vectors/headers.json from its inputs and the current header
 * code: every `headers[].expected` from `stageHeaders`, every `sanitize` / `list` / `url` case's
 * `expected` from the sanitisers. The inputs, names and descriptions are kept as they are (add a
 * case by adding its input with any `expected`, then run this). Run it only when behaviour changes
 * on purpose, then review the diff: the vectors pin what clients in any language can rely on.
 *
 *   node scripts/generate-header-vectors.ts
 */
import { readFileSync, writeFileSync } from "node:fs"
import { sanitizeHeaderItem, sanitizeHeaderList, sanitizeUrl } from "../src/http/HeaderValues.ts"
import { type HeaderInput, type HeaderSettings, stageHeaders } from "../src/http/StageHeaders.ts"

interface Vectors {
  readonly headers: Array<{ input: HeaderInput; settings: HeaderSettings; expected: unknown }>
  readonly sanitize: Array<{ input: string; expected: unknown }>
  readonly list: Array<{ input: ReadonlyArray<string>; expected: unknown }>
  readonly url: Array<{ input: string; fallback: string; expected: unknown }>
}

const file = new URL("../vectors/headers.json", import.meta.url)
const vectors: Vectors = JSON.parse(readFileSync(file, "utf8"))
for (const c of vectors.headers) c.expected = stageHeaders(c.input, c.settings).map(([name, value]) => [name, value])
for (const c of vectors.sanitize) c.expected = sanitizeHeaderItem(c.input)
for (const c of vectors.list) c.expected = sanitizeHeaderList(c.input)
for (const c of vectors.url) c.expected = sanitizeUrl(c.input, c.fallback)
writeFileSync(file, JSON.stringify(vectors, null, 2) + "\n")
console.log(`vectors/headers.json: ${vectors.headers.length} header cases, ${vectors.sanitize.length} sanitize, ` +
  `${vectors.list.length} list, ${vectors.url.length} url`)
