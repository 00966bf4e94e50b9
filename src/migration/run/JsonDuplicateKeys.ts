/**
 * Duplicate keys in JSON text. `JSON.parse` keeps the last of two equal keys without a word, so
 * a mapping file `{"bridge": "seed", "bridge": "series-a"}` read as `{"bridge": "series-a"}` and
 * forced every `bridge` row to series-a. No JSON parser among the dependencies reports duplicates,
 * so this is a small scanner over text `JSON.parse` has already accepted: it only has to follow
 * strings (with their escapes) and the nesting of objects and arrays to see each object's keys.
 *
 * @since 0.3.0
 */

interface ObjectFrame {
  readonly keys: Set<string>
  expectKey: boolean
}

/** The end (index of the closing quote) of the string starting at `start` (an opening quote). */
const stringEnd = (text: string, start: number): number => {
  let i = start + 1
  while (i < text.length && text[i] !== "\"") i += text[i] === "\\" ? 2 : 1
  return i
}

/**
 * The keys that occur more than once in one object of valid JSON text, in order of their second
 * occurrence (each once). Call it on text `JSON.parse` accepts.
 *
 * @example
 * ```ts
 * import { duplicateJsonKeys } from "./JsonDuplicateKeys.ts" // internal: not part of the package's API
 * duplicateJsonKeys('{"bridge":"seed","bridge":"series-a"}') // => ["bridge"]
 * duplicateJsonKeys('{"a":{"x":1},"b":{"x":2}}') // => [] (different objects)
 * duplicateJsonKeys('{"a\\u0062":1,"ab":2}') // => ["ab"] (keys compared decoded)
 * ```
 * @since 0.3.0
 * @category parsing
 */
export const duplicateJsonKeys = (text: string): ReadonlyArray<string> => {
  const stack: Array<ObjectFrame | undefined> = [] // undefined: an array
  const duplicates = new Set<string>()
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    const top = stack[stack.length - 1]
    if (c === "{") stack.push({ keys: new Set(), expectKey: true })
    else if (c === "[") stack.push(undefined)
    else if (c === "}" || c === "]") stack.pop()
    else if (c === "," && top !== undefined) top.expectKey = true
    else if (c === "\"") {
      const end = stringEnd(text, i)
      if (top !== undefined && top.expectKey) {
        const key = JSON.parse(text.slice(i, end + 1)) as string
        if (top.keys.has(key)) duplicates.add(key)
        top.keys.add(key)
        top.expectKey = false
      }
      i = end
    }
  }
  return [...duplicates]
}
