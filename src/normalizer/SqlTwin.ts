/**
 * The SQL twin of the normaliser: a PostgreSQL function `normalize_stage(text) RETURNS text`
 * (NULL for unknown input) **generated** from a {@link Vocabulary} and {@link KEY_FOLDING_STEPS},
 * never written by hand. The migration runs it inside the database so a batch is one statement.
 *
 * What the generated function does, step for step with `normalizeStage`:
 *
 * 1. a canonical spelling is its own result (TypeScript's exact-match fast path);
 * 2. input longer than {@link MAX_INPUT_LENGTH} **UTF-16 code units** is unknown (PostgreSQL's
 *    `length` counts code points, so characters outside the BMP are counted twice, as in JS);
 * 3. `normalize(x, NFKC)`;
 * 4. anything then outside printable ASCII and ASCII whitespace is unknown. JavaScript's
 *    full-Unicode `toLowerCase` never turns such a character into a key character, so the
 *    TypeScript side cannot match it either, while PostgreSQL's locale-dependent `lower` could;
 * 5. the trim step, `lower(x COLLATE "C")`, then every `afterLowerCase` step as
 *    `regexp_replace(x, pattern, replacement, 'g')`, translated from JavaScript to PostgreSQL's
 *    ARE dialect by {@link toPostgresPattern} / {@link toPostgresReplacement} (which refuse the
 *    constructs whose meaning differs between the two);
 * 6. the folded key is looked up in a `CASE` generated from `vocabulary.table`.
 *
 * It is PL/pgSQL, `IMMUTABLE STRICT PARALLEL SAFE`: PL/pgSQL caches its compiled expressions
 * and measured ten times faster than an inlined SQL expression. The function carries a comment
 * naming the vocabulary version; an installer compares it and re-creates the function when the
 * vocabulary changes. The equivalence with `normalizeStage` is a property test against a real
 * PostgreSQL.
 *
 * @since 0.1.0
 */
import { Effect, Result, Schema } from "effect"
import { KEY_FOLDING_STEPS, MAX_INPUT_LENGTH } from "./KeyFolding.ts"
import { stageVocabulary } from "./StageVocabulary.ts"
import type { Vocabulary } from "./Vocabulary.ts"

/**
 * Why a SQL twin could not be generated.
 *
 * @example
 * ```ts
 * import { Result } from "effect"
 * import { toPostgresPattern } from "./SqlTwin.ts" // internal: not part of the package's API
 * const r = toPostgresPattern("\\bseed\\b")
 * Result.isFailure(r) && r.failure.reason // => "UnsupportedPattern"
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class SqlTwinError extends Schema.TaggedError<SqlTwinError>("stage-normalization/normalizer/SqlTwinError")(
  "SqlTwinError",
  {
    reason: Schema.Literals(["UnsupportedPattern", "UnsupportedReplacement", "InvalidIdentifier"]),
    input: Schema.String,
    detail: Schema.String
  }
) {
  override get message(): string {
    return `${this.reason} ${JSON.stringify(this.input)}: ${this.detail}`
  }
}

const fail = (reason: SqlTwinError["reason"], input: string, detail: string) =>
  Result.fail(new SqlTwinError({ reason, input, detail }))

const SAME_ESCAPES = "tnvfr"
const LITERAL_ESCAPES = "\\.+*?()[]{}|^$-/"

/**
 * Translate a JavaScript regular expression source (used without the `u`, `i`, `m`, `s` or `y`
 * flags) to PostgreSQL's ARE dialect. Only a subset both engines read the same way is accepted:
 * literals, `[...]` sets, `^ $ | ( ) (?: ) (?= ) (?! )`, greedy quantifiers, the escapes
 * `\t \n \v \f \r \d` and escaped punctuation. `.` (line terminators), `\b` (a backspace in
 * ARE), `\s \w` (locale-dependent in ARE), lazy quantifiers (ARE's greediness rules differ),
 * named groups and back-references are refused.
 *
 * @example
 * ```ts
 * import { toPostgresPattern } from "./SqlTwin.ts" // internal: not part of the package's API
 * toPostgresPattern("[\\t _.-]+") // => Result.succeed("[\\t _.-]+")
 * toPostgresPattern("\\d+")       // => Result.succeed("[0-9]+")
 * ```
 *
 * @since 0.1.0
 * @category sql
 */
export const toPostgresPattern = (pattern: string): Result.Result<string, SqlTwinError> => {
  let out = ""
  let inBracket = false
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!
    const next = pattern[i + 1]
    if (c === "\\") {
      if (next === undefined) return fail("UnsupportedPattern", pattern, "trailing backslash")
      i++
      if (SAME_ESCAPES.includes(next) || LITERAL_ESCAPES.includes(next)) out += "\\" + next
      else if (next === "d") out += inBracket ? "0-9" : "[0-9]"
      else return fail("UnsupportedPattern", pattern, `the escape \\${next} differs between JavaScript and PostgreSQL`)
      continue
    }
    if (inBracket) {
      if (c === "[" && (next === ":" || next === "." || next === "=")) {
        return fail("UnsupportedPattern", pattern, `"[${next}" inside a set is a class or collating element in PostgreSQL`)
      }
      if (c === "]") inBracket = false
      out += c
      continue
    }
    switch (c) {
      case "[": {
        inBracket = true
        out += c
        // a leading "^" and a leading "]" keep their meaning in both dialects
        if (pattern[i + 1] === "^") out += pattern[++i]
        if (pattern[i + 1] === "]") return fail("UnsupportedPattern", pattern, "a set starting with ] is read differently")
        break
      }
      case ".":
        return fail("UnsupportedPattern", pattern, "\".\" excludes line terminators in JavaScript only")
      case "(": {
        if (next === "?") {
          const kind = pattern.slice(i + 2, i + 4)
          if (!(kind.startsWith(":") || kind.startsWith("=") || kind.startsWith("!") || kind === "<=" || kind === "<!")) {
            return fail("UnsupportedPattern", pattern, "named groups and inline flags are not portable")
          }
        }
        out += c
        break
      }
      case "*":
      case "+":
      case "?":
      case "}": {
        if (next === "?") return fail("UnsupportedPattern", pattern, "lazy quantifiers follow different rules in ARE")
        out += c
        break
      }
      default:
        out += c
    }
  }
  if (inBracket) return fail("UnsupportedPattern", pattern, "unterminated set")
  return Result.succeed(out)
}

/**
 * Translate a JavaScript `String.prototype.replace` replacement to `regexp_replace`'s: `$1`–`$9`
 * become `\1`–`\9`, `$&` becomes `\&`, `$$` a `$`, and a literal `\` or `&` (both special in
 * PostgreSQL) is escaped. `` $` ``, `$'`, `$<name>` and groups above 9 are refused.
 *
 * @example
 * ```ts
 * import { toPostgresReplacement } from "./SqlTwin.ts" // internal: not part of the package's API
 * toPostgresReplacement("$1+") // => Result.succeed("\\1+")
 * toPostgresReplacement("a&b") // => Result.succeed("a\\&b")
 * ```
 *
 * @since 0.1.0
 * @category sql
 */
export const toPostgresReplacement = (replacement: string): Result.Result<string, SqlTwinError> => {
  let out = ""
  for (let i = 0; i < replacement.length; i++) {
    const c = replacement[i]!
    if (c === "\\") out += "\\\\"
    else if (c === "&") out += "\\&"
    else if (c === "$") {
      const next = replacement[i + 1]
      if (next === "$") {
        out += "$"
        i++
      } else if (next === "&") {
        out += "\\&"
        i++
      } else if (next !== undefined && next >= "1" && next <= "9") {
        const after = replacement[i + 2]
        if (after !== undefined && after >= "0" && after <= "9") {
          return fail("UnsupportedReplacement", replacement, "PostgreSQL has back-references \\1 to \\9 only")
        }
        out += "\\" + next
        i++
      } else if (next === "`" || next === "'" || next === "<" || next === "0") {
        return fail("UnsupportedReplacement", replacement, `$${next} has no PostgreSQL equivalent`)
      } else {
        out += "$"
      }
    } else out += c
  }
  return Result.succeed(out)
}

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/

/**
 * A PostgreSQL string constant that reads the same whatever `standard_conforming_strings` is
 * (an `E''` literal).
 *
 * @example
 * ```ts
 * import { sqlStringLiteral } from "./SqlTwin.ts" // internal: not part of the package's API
 * sqlStringLiteral("it's \\t") // => "E'it''s \\\\t'"
 * ```
 *
 * @since 0.1.0
 * @category sql
 */
export const sqlStringLiteral = (value: string): string =>
  /[\\']/.test(value) ? `E'${value.replace(/\\/g, "\\\\").replace(/'/g, "''")}'` : `'${value}'`

/**
 * @since 0.1.0
 * @category models
 */
export interface SqlTwinOptions {
  /** Schema holding the function (default `stage_normalization`): lower-case SQL identifier. */
  readonly schema?: string
  /** Function name (default `normalize_stage`): lower-case SQL identifier. */
  readonly functionName?: string
}

/**
 * A generated twin: the statements to run (one at a time, e.g. through a driver that uses the
 * extended protocol) and the same as one script for `psql`.
 *
 * @since 0.1.0
 * @category models
 */
export interface SqlTwin {
  readonly schema: string
  readonly functionName: string
  /** `schema.function`, ready to splice into SQL. */
  readonly qualifiedName: string
  /** `schema.function(text)`, for `to_regprocedure` / `COMMENT ON FUNCTION`. */
  readonly signature: string
  readonly vocabularyName: string
  /** `vocabulary.version`; recorded in the function's comment as {@link SqlTwin.comment}. */
  readonly version: string
  /** The comment the installed function carries; equal comments mean an up-to-date twin. */
  readonly comment: string
  readonly statements: ReadonlyArray<string>
  readonly script: string
}

const COMMENT_PREFIX = "stage-normalization sql twin"

/**
 * The comment an installed twin of this vocabulary carries.
 *
 * @example
 * ```ts
 * import { stageVocabulary } from "stage-normalization/normalizer"
 * sqlTwinComment(stageVocabulary) // => "stage-normalization sql twin; vocabulary=stage; version=…"
 * ```
 *
 * @since 0.1.0
 * @category sql
 */
const sqlTwinComment = (vocabulary: Vocabulary<string>): string =>
  `${COMMENT_PREFIX}; vocabulary=${vocabulary.name}; version=${vocabulary.version}`

/**
 * Generate the SQL twin of `normalizeStage` for a vocabulary (the stage vocabulary by default).
 *
 * @example
 * ```ts
 * import { Result } from "effect"
 * import { makeSqlTwinResult } from "stage-normalization/normalizer"
 * const twin = Result.getOrThrow(makeSqlTwinResult())
 * twin.qualifiedName // => "stage_normalization.normalize_stage"
 * twin.script        // => "CREATE SCHEMA IF NOT EXISTS stage_normalization;\n\nCREATE OR REPLACE FUNCTION …"
 * ```
 *
 * @since 0.1.0
 * @category sql
 */
export const makeSqlTwinResult = (
  vocabulary: Vocabulary<string> = stageVocabulary,
  options: SqlTwinOptions = {}
): Result.Result<SqlTwin, SqlTwinError> => {
  const schema = options.schema ?? "stage_normalization"
  const functionName = options.functionName ?? "normalize_stage"
  for (const name of [schema, functionName]) {
    if (!IDENTIFIER.test(name)) {
      return fail("InvalidIdentifier", name, "expected a lower-case SQL identifier ([a-z_][a-z0-9_]*, at most 63)")
    }
  }
  const trim = toPostgresPattern(KEY_FOLDING_STEPS.trim.pattern)
  if (Result.isFailure(trim)) return Result.fail(trim.failure)
  const trimReplacement = toPostgresReplacement(KEY_FOLDING_STEPS.trim.replacement)
  if (Result.isFailure(trimReplacement)) return Result.fail(trimReplacement.failure)
  const steps: Array<string> = []
  for (const step of KEY_FOLDING_STEPS.afterLowerCase) {
    const pattern = toPostgresPattern(step.pattern)
    if (Result.isFailure(pattern)) return Result.fail(pattern.failure)
    const replacement = toPostgresReplacement(step.replacement)
    if (Result.isFailure(replacement)) return Result.fail(replacement.failure)
    steps.push(
      `  -- ${step.pattern}  →  ${JSON.stringify(step.replacement)}\n` +
        `  s := regexp_replace(s, ${sqlStringLiteral(pattern.success)}, ${sqlStringLiteral(replacement.success)}, 'g');`
    )
  }
  const qualifiedName = `${schema}.${functionName}`
  const signature = `${qualifiedName}(text)`
  const comment = sqlTwinComment(vocabulary)
  const canonicalList = vocabulary.canonical.map(sqlStringLiteral).join(", ")
  const keys = Array.from(vocabulary.table).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  const lookup = keys.map(([key, value]) => `    WHEN ${sqlStringLiteral(key)} THEN ${sqlStringLiteral(value)}`).join("\n")
  const tag = `$${functionName}$`
  const body = `CREATE OR REPLACE FUNCTION ${signature.replace("(text)", "(input text)")}
RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
AS ${tag}
-- Generated by stage-normalization from vocabulary "${vocabulary.name}" (version ${vocabulary.version}).
-- Do not edit: regenerate with \`stage-normalization sql\`. Mirrors normalizeStage(); NULL = unknown.
DECLARE
  s text;
BEGIN
  -- canonical spellings are their own result
  IF input IN (${canonicalList}) THEN
    RETURN input;
  END IF;
  -- longer than ${MAX_INPUT_LENGTH} UTF-16 code units: unknown (code points above U+FFFF count twice)
  IF length(input) > ${MAX_INPUT_LENGTH} THEN
    RETURN NULL;
  END IF;
  IF octet_length(input) > ${MAX_INPUT_LENGTH}
    AND length(input) + length(regexp_replace(input, ${sqlStringLiteral("[^\\U00010000-\\U0010FFFF]")}, '', 'g')) > ${MAX_INPUT_LENGTH} THEN
    RETURN NULL;
  END IF;
  s := normalize(input, NFKC);
  -- after NFKC, a character outside printable ASCII and ASCII whitespace can never fold to a key
  IF s ~ ${sqlStringLiteral("[^\\t\\n\\v\\f\\r\\u0020-\\u007e]")} THEN
    RETURN NULL;
  END IF;
  -- ${KEY_FOLDING_STEPS.trim.pattern}
  s := regexp_replace(s, ${sqlStringLiteral(trim.success)}, ${sqlStringLiteral(trimReplacement.success)}, 'g');
  s := lower(s COLLATE "C");
${steps.join("\n")}
  RETURN CASE s
${lookup}
    ELSE NULL
  END;
END
${tag}`
  const statements = [
    `CREATE SCHEMA IF NOT EXISTS ${schema}`,
    body,
    `COMMENT ON FUNCTION ${signature} IS ${sqlStringLiteral(comment)}`
  ]
  return Result.succeed({
    schema,
    functionName,
    qualifiedName,
    signature,
    vocabularyName: vocabulary.name,
    version: vocabulary.version,
    comment,
    statements,
    script: statements.map((s) => s + ";").join("\n\n") + "\n"
  })
}

/**
 * {@link makeSqlTwinResult} as an `Effect`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { makeSqlTwin } from "stage-normalization/normalizer"
 * const program = makeSqlTwin().pipe(Effect.map((twin) => twin.script))
 * ```
 *
 * @since 0.1.0
 * @category sql
 */
export const makeSqlTwin = (
  vocabulary: Vocabulary<string> = stageVocabulary,
  options: SqlTwinOptions = {}
): Effect.Effect<SqlTwin, SqlTwinError> => Effect.fromResult(makeSqlTwinResult(vocabulary, options))
