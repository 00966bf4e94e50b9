/**
 * A stored distribution's JSON text, read only as deep as the migration looks — the container
 * and, in an array, each entry's fields — with every value below kept as its exact text. A
 * rewritten distribution is assembled from those texts, so each number, string and nested value
 * keeps exactly the text it was stored with, however large, precise or deeply nested: nothing the
 * migration does not change goes through `JSON.parse`/`JSON.stringify` (which turn
 * `12345678901234567890` into `12345678901234567000` and `1e-400` into `0`).
 *
 * The reader expects valid JSON (the caller has parsed the text first); it scans without
 * recursion, so any nesting depth PostgreSQL stores is fine.
 *
 * @since 0.4.0
 */

/**
 * A JSON value kept as its exact text.
 *
 * @since 0.4.0
 * @category models
 */
export interface RawJson {
  readonly _tag: "Raw"
  readonly text: string
}

/**
 * A JSON object read one level deep: its fields in text order, each value as its exact text.
 *
 * @since 0.4.0
 * @category models
 */
export interface JsonFields {
  readonly _tag: "Fields"
  readonly fields: ReadonlyArray<readonly [key: string, value: RawJson]>
}

/**
 * A stored distribution as the migration reads it: an array of entries (objects read one level
 * deep), an object (the `{ stage: weight }` form), or any other value, kept whole.
 *
 * @since 0.4.0
 * @category models
 */
export type DistributionJson =
  | { readonly _tag: "Array"; readonly items: ReadonlyArray<JsonFields | RawJson> }
  | JsonFields
  | RawJson

const malformed = () => new SyntaxError("DistributionJson: malformed JSON text")

const skipSpace = (t: string, i: number): number => {
  while (i < t.length) {
    const c = t.charCodeAt(i)
    if (c !== 32 && c !== 9 && c !== 10 && c !== 13) break
    i++
  }
  return i
}

/** `i` at an opening quote: the index after the closing one. */
const stringEnd = (t: string, i: number): number => {
  for (i++; i < t.length; i++) {
    const c = t[i]
    if (c === "\\") i++
    else if (c === "\"") return i + 1
  }
  throw malformed()
}

/** `i` at the start of a value: the index after it (containers scanned by depth, not recursion). */
const valueEnd = (t: string, i: number): number => {
  const first = t[i]
  if (first === "\"") return stringEnd(t, i)
  if (first === "{" || first === "[") {
    let depth = 0
    while (i < t.length) {
      const c = t[i]
      if (c === "\"") {
        i = stringEnd(t, i)
        continue
      }
      if (c === "{" || c === "[") depth++
      else if ((c === "}" || c === "]") && --depth === 0) return i + 1
      i++
    }
    throw malformed()
  }
  const start = i
  while (i < t.length && !",]} \t\n\r".includes(t[i]!)) i++
  if (i === start) throw malformed()
  return i
}

const raw = (text: string): RawJson => ({ _tag: "Raw", text })

/** `i` at `{`: the object's fields and the index after `}`. */
const readObject = (t: string, i: number): readonly [JsonFields, number] => {
  const fields: Array<readonly [string, RawJson]> = []
  i = skipSpace(t, i + 1)
  if (t[i] === "}") return [{ _tag: "Fields", fields }, i + 1]
  for (;;) {
    i = skipSpace(t, i)
    const keyEnd = stringEnd(t, i)
    const key = JSON.parse(t.slice(i, keyEnd)) as string
    i = skipSpace(t, skipSpace(t, keyEnd) + 1) // past ':'
    const end = valueEnd(t, i)
    fields.push([key, raw(t.slice(i, end))])
    i = skipSpace(t, end)
    if (t[i] === ",") i++
    else if (t[i] === "}") return [{ _tag: "Fields", fields }, i + 1]
    else throw malformed()
  }
}

/**
 * Read a distribution's JSON text (valid JSON) one level into its entries.
 *
 * @example
 * ```ts
 * import { readDistributionJson } from "./DistributionJson.ts" // internal: not part of the package's API
 * readDistributionJson(`{"Seed": 12345678901234567890}`)
 * // => { _tag: "Fields", fields: [["Seed", { _tag: "Raw", text: "12345678901234567890" }]] }
 * ```
 *
 * @since 0.4.0
 * @category parsing
 */
export const readDistributionJson = (text: string): DistributionJson => {
  const i = skipSpace(text, 0)
  if (text[i] === "{") return readObject(text, i)[0]
  if (text[i] !== "[") return raw(text.trim())
  const items: Array<JsonFields | RawJson> = []
  let at = skipSpace(text, i + 1)
  if (text[at] === "]") return { _tag: "Array", items }
  for (;;) {
    at = skipSpace(text, at)
    if (text[at] === "{") {
      const [fields, end] = readObject(text, at)
      items.push(fields)
      at = end
    } else {
      const end = valueEnd(text, at)
      items.push(raw(text.slice(at, end)))
      at = end
    }
    at = skipSpace(text, at)
    if (text[at] === ",") at++
    else if (text[at] === "]") return { _tag: "Array", items }
    else throw malformed()
  }
}

/**
 * The exact text of a field (the last one of that name, as `JSON.parse` reads duplicates).
 *
 * @since 0.4.0
 * @category parsing
 */
export const fieldText = (entry: JsonFields, key: string): string | undefined => {
  let found: string | undefined
  for (const [k, v] of entry.fields) if (k === key) found = v.text
  return found
}

/**
 * JSON text of an object from keys and the exact JSON texts of their values.
 *
 * @since 0.4.0
 * @category rendering
 */
export const renderObject = (pairs: ReadonlyArray<readonly [string, string]>): string =>
  `{${pairs.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(",")}}`

/**
 * JSON text of an entry with its `stage` field(s) set to `stage`, every other field kept exactly.
 *
 * @since 0.4.0
 * @category rendering
 */
export const withStage = (entry: JsonFields, stage: string): string =>
  renderObject(entry.fields.map(([k, v]) => [k, k === "stage" ? JSON.stringify(stage) : v.text] as const))
